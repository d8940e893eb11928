package aws

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
	"github.com/anyblob/anyblob/conformance/emulator"
)

// TestDeletePrefixOnMinIOLeavesNothing stores keys MinIO lists only once
// another is gone (t/a/1 beside the object t/a; the default options refuse
// the second, verbatim_keys lets it through), and requires DeletePrefix to
// delete them all or say what is left, never report success with objects
// remaining.
func TestDeletePrefixOnMinIOLeavesNothing(t *testing.T) {
	testEnv(t)
	ctx := context.Background()
	opts := minioOptions(emulator.MinIO(t))
	opts.VerbatimKeys = true
	c := newClient(t, opts)
	b, _ := newBucket(t, c)
	var stored []string
	for _, k := range []string{"t/a/1", "t/a", "t/b"} {
		if err := blob.WriteAll(ctx, b, k, []byte(k), nil); err == nil {
			stored = append(stored, k)
		}
	}
	require.Equal(t, []string{"t/a/1", "t/a", "t/b"}, stored)
	n, err := blob.DeletePrefix(ctx, b, "t/")
	require.NoError(t, err)
	require.Equal(t, len(stored), n, "stored %v", stored)
	for _, k := range stored {
		ok, err := blob.Exists(ctx, b, k)
		require.NoError(t, err)
		require.False(t, ok, "%s is gone", k)
	}
}

// TestMangledKeysNeverReachTheWire records every request a client sends
// to MinIO and requires that keys a non-AWS server would store under
// another name (and that would leave a blob.Prefixed view) are refused
// before any request, unless the user opted in; and that ordinary keys,
// folder markers included, still go through.
func TestMangledKeysNeverReachTheWire(t *testing.T) {
	testEnv(t)
	ctx := context.Background()
	m := emulator.MinIO(t)
	p, err := faultproxy.New(m.Endpoint, 1)
	require.NoError(t, err)
	defer p.Close()
	var paths []string
	var mu sync.Mutex
	p.OnRequest = func(r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
	}
	opts := minioOptions(m)
	opts.Endpoint = p.URL()
	c := newClient(t, opts)
	b, _ := newBucket(t, c)
	tenant := blob.Prefixed(b, "tenant-a/")
	mu.Lock()
	paths = nil
	mu.Unlock()
	for _, k := range []string{"../../etc/passwd", "a//b", "/x", "./y", "a/./b", "a/.."} {
		err := blob.WriteAll(ctx, tenant, k, []byte("x"), nil)
		require.ErrorIs(t, err, blob.ErrInvalidArgument, k)
		require.ErrorContains(t, err, "refused before any request", k)
		_, err = b.Attributes(ctx, k)
		require.ErrorIs(t, err, blob.ErrInvalidArgument, k)
	}
	require.Empty(t, paths, "no request left for those keys")

	for _, k := range []string{"ok.txt", "dir/", "dir/file", "a.b/..c/...", "é/日本"} {
		require.NoError(t, blob.WriteAll(ctx, tenant, k, []byte(k), nil), k)
		got, err := blob.ReadAll(ctx, tenant, k)
		require.NoError(t, err, k)
		require.Equal(t, k, string(got))
	}

	// Opting in sends them as they are: MinIO then does what it does.
	opts.VerbatimKeys = true
	v, err := newClient(t, opts).Bucket(strings.TrimPrefix(fmt.Sprint(b), "s3://"))
	require.NoError(t, err)
	mu.Lock()
	paths = nil
	mu.Unlock()
	_ = blob.WriteAll(ctx, v, "a//b", []byte("x"), nil)
	require.NotEmpty(t, paths, "with verbatim_keys the key goes to the server")
}
