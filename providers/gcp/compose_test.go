package gcp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/gcp"
)

// composeRig is a bucket on fake-gcs-server with composed writes on,
// reached through a fault proxy that notes every request, and the same
// bucket reached directly.
type composeRig struct {
	b, direct blob.Bucket
	proxy     *faultproxy.Proxy

	mu   sync.Mutex
	seen []string // "METHOD path?query" of every request
}

func newComposeRig(t *testing.T) *composeRig {
	srv := emulator.FakeGCS(t, "bkt")
	p, err := faultproxy.New(srv.Endpoint, 1)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	p.TargetHost = true
	rig := &composeRig{proxy: p}
	p.OnRequest = func(r *http.Request) {
		rig.mu.Lock()
		rig.seen = append(rig.seen, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		rig.mu.Unlock()
	}
	ctx := context.Background()
	rig.b, err = gcp.OpenBucket(ctx, "bkt", gcp.Options{Endpoint: p.URL() + "/storage/v1/", Anonymous: true, ComposeWrites: true,
		Retry: blob.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}})
	require.NoError(t, err)
	t.Cleanup(func() { rig.b.Close() })
	rig.direct, err = gcp.OpenBucket(ctx, "bkt", gcp.Options{Endpoint: srv.Endpoint + "/storage/v1/", Anonymous: true})
	require.NoError(t, err)
	t.Cleanup(func() { rig.direct.Close() })
	return rig
}

// take returns the requests seen since the last take.
func (r *composeRig) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seen
	r.seen = nil
	return s
}

// count is how many of reqs contain what.
func count(reqs []string, what string) int {
	n := 0
	for _, r := range reqs {
		if strings.Contains(r, what) {
			n++
		}
	}
	return n
}

// keys lists every object in the bucket.
func (r *composeRig) keys(t *testing.T) []string {
	var out []string
	for o, err := range blob.Objects(context.Background(), r.direct, nil) {
		require.NoError(t, err)
		out = append(out, o.Key)
	}
	return out
}

// onlyWriter hides a reader's other methods (io.ReaderAt, WriterTo), so
// a write gets its data through Write, into part buffers.
type onlyWriter struct{ io.Reader }

const composePart = 256 << 10

// TestComposedWrites writes objects of 41 parts (two rounds of compose:
// 41 parts are more than one compose takes) from a stream and from a
// ReaderAt, and checks the data, the attributes, the requests and that no
// part is left; a small write stays one request and a conditional one
// stays one stream.
func TestComposedWrites(t *testing.T) {
	rig := newComposeRig(t)
	ctx := context.Background()
	data := pattern(40*composePart+1000, 7)
	opts := &blob.WriterOptions{PartSize: composePart, ContentType: "text/csv", CacheControl: "no-store",
		Metadata: map[string]string{"owner": "data-team"}, StorageClass: "NEARLINE"}

	for name, write := range map[string]func(key string) error{
		"stream": func(key string) error { return blob.Upload(ctx, rig.b, key, onlyWriter{bytes.NewReader(data)}, opts) },
		"file":   func(key string) error { return blob.Upload(ctx, rig.b, key, bytes.NewReader(data), opts) },
	} {
		t.Run(name, func(t *testing.T) {
			rig.take()
			key := "composed/" + name
			require.NoError(t, write(key))
			reqs := rig.take()
			require.Equal(t, 41, count(reqs, "uploadType=multipart"), "one request per part: %v", reqs)
			require.Equal(t, 3, count(reqs, "/compose"), "two intermediates, then the object")
			require.Equal(t, 0, count(reqs, "uploadType=resumable"), "no one-stream upload")

			got, err := blob.ReadAll(ctx, rig.direct, key)
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, got), "the object is the parts in order")
			a, err := rig.direct.Attributes(ctx, key)
			require.NoError(t, err)
			require.Equal(t, int64(len(data)), a.Size)
			require.Equal(t, "text/csv", a.ContentType)
			require.Equal(t, "no-store", a.CacheControl)
			require.Equal(t, map[string]string{"owner": "data-team"}, a.Metadata)
			require.Equal(t, "NEARLINE", a.StorageClass)
			for _, k := range rig.keys(t) {
				require.False(t, strings.HasPrefix(k, gcp.DefaultComposePrefix), "part %q left behind", k)
			}
		})
	}

	// BeforeWrite sees the composed object's attributes, once.
	calls := 0
	hooked := &blob.WriterOptions{PartSize: composePart, BeforeWrite: func(as func(any) bool) error {
		calls++
		var a *storage.ObjectAttrs
		require.True(t, as(&a), "a composed write shows its attributes")
		a.ContentLanguage = "fr"
		return nil
	}}
	require.NoError(t, blob.WriteAll(ctx, rig.b, "hooked", data, hooked))
	require.Equal(t, 1, calls)
	a, err := rig.direct.Attributes(ctx, "hooked")
	require.NoError(t, err)
	require.Equal(t, "fr", a.ContentLanguage)

	// An object within one part is one request, as without composing.
	rig.take()
	require.NoError(t, blob.WriteAll(ctx, rig.b, "small", data[:1000], opts))
	reqs := rig.take()
	require.Len(t, reqs, 1, "%v", reqs)
	require.Equal(t, 1, count(reqs, "uploadType=multipart"))

	// A conditional write is one stream, whose condition the service checks.
	require.NoError(t, blob.WriteAll(ctx, rig.b, "cond", data, &blob.WriterOptions{PartSize: composePart, IfNotExist: true}))
	reqs = rig.take()
	require.Equal(t, 0, count(reqs, "/compose"))
	require.Positive(t, count(reqs, "uploadType=resumable"))
	err = blob.WriteAll(ctx, rig.b, "cond", data, &blob.WriterOptions{PartSize: composePart, IfNotExist: true})
	require.ErrorIs(t, err, blob.ErrPreconditionFailed)
	got, err := blob.ReadAll(ctx, rig.direct, "cond")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))
}

// TestComposedWriteFailures: a part that keeps failing, a compose that
// keeps failing and an aborted write each end the write with nothing at
// the key and no part left; a part whose bytes changed on the way is sent
// again and the object is right.
func TestComposedWriteFailures(t *testing.T) {
	ctx := context.Background()
	data := pattern(6*composePart+10, 3)
	opts := &blob.WriterOptions{PartSize: composePart, Concurrency: 2}
	isPart := func(r *http.Request) bool { return r.URL.Query().Get("uploadType") == "multipart" }
	nothingLeft := func(t *testing.T, rig *composeRig, key string) {
		t.Helper()
		ok, err := blob.Exists(ctx, rig.direct, key)
		require.NoError(t, err)
		require.False(t, ok, "nothing at the key")
		require.Empty(t, rig.keys(t), "no part left")
	}

	t.Run("a part keeps failing", func(t *testing.T) {
		rig := newComposeRig(t)
		var n sync.Mutex
		parts := 0
		rig.proxy.Add(faultproxy.Rule{Kind: faultproxy.Status500, Match: func(r *http.Request) bool {
			if !isPart(r) {
				return false
			}
			n.Lock()
			defer n.Unlock()
			parts++
			return parts > 3 // the first three parts go through, then every one fails
		}})
		err := blob.WriteAll(ctx, rig.b, "k", data, opts)
		require.ErrorIs(t, err, blob.ErrInternal)
		nothingLeft(t, rig, "k")
	})

	t.Run("the compose keeps failing", func(t *testing.T) {
		rig := newComposeRig(t)
		rig.proxy.Add(faultproxy.Rule{Kind: faultproxy.Status503, Match: func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/compose") }})
		err := blob.WriteAll(ctx, rig.b, "k", data, opts)
		require.ErrorIs(t, err, blob.ErrThrottled)
		nothingLeft(t, rig, "k")
	})

	t.Run("aborted", func(t *testing.T) {
		rig := newComposeRig(t)
		w, err := rig.b.NewWriter(ctx, "k", opts)
		require.NoError(t, err)
		_, err = w.Write(data[:4*composePart+5])
		require.NoError(t, err)
		require.Eventually(t, func() bool { return len(rig.keys(t)) > 0 }, 5*time.Second, 5*time.Millisecond, "parts are on their way")
		require.NoError(t, w.Abort(nil))
		nothingLeft(t, rig, "k")
	})

	t.Run("a part changed on the way", func(t *testing.T) {
		rig := newComposeRig(t)
		rig.proxy.Add(faultproxy.Rule{Kind: faultproxy.FlipRequest, Times: 1, Match: isPart})
		require.NoError(t, blob.WriteAll(ctx, rig.b, "k", data, opts))
		require.Equal(t, 1, rig.proxy.Total(), "one part was changed")
		got, err := blob.ReadAll(ctx, rig.direct, "k")
		require.NoError(t, err)
		require.True(t, bytes.Equal(data, got), "and sent again")
		require.Equal(t, []string{"k"}, rig.keys(t))
	})
}

// pattern is n bytes that differ from part to part, so that parts out of
// order would show.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i/1021) ^ byte(i) ^ seed
	}
	return b
}
