package gcp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/gcp"
)

// TestFullReadsVerifyCRC32C puts a proxy in front of fake-gcs-server that
// flips one byte of every object download carrying a checksum: a full read
// must fail rather than hand back the damaged bytes.
func TestFullReadsVerifyCRC32C(t *testing.T) {
	srv := emulator.FakeGCS(t, "bkt")
	target, err := url.Parse(srv.Endpoint)
	require.NoError(t, err)
	var corrupt atomic.Bool
	var damaged atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if !corrupt.Load() || resp.Request.Method != http.MethodGet || !strings.Contains(resp.Header.Get("X-Goog-Hash"), "crc32c=") {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if len(body) > 0 {
			body[len(body)/2] ^= 0x01
			damaged.Add(1)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Host = target.Host
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	ctx := context.Background()
	b, err := gcp.OpenBucket(ctx, "bkt", gcp.Options{Endpoint: front.URL, Anonymous: true})
	require.NoError(t, err)
	defer b.Close()
	body := bytes.Repeat([]byte("integrity "), 10_000)
	require.NoError(t, blob.WriteAll(ctx, b, "obj", body, nil))
	got, err := blob.ReadAll(ctx, b, "obj")
	require.NoError(t, err)
	require.Equal(t, body, got, "an undamaged read succeeds")

	corrupt.Store(true)
	_, err = blob.ReadAll(ctx, b, "obj")
	require.Equal(t, int64(1), damaged.Load(), "the proxy damaged the download")
	require.Error(t, err, "a damaged full read must fail")
	require.ErrorContains(t, err, "bad CRC")
}

// TestWrongStoredObjectIsRemoved makes fake-gcs-server store a resumable
// upload wrong: the answer to a middle chunk is lost, the library sends
// the chunk again, and the emulator appends it a second time instead of
// placing it at its offset (GCS would refuse the result by its CRC32C).
// The writer sees that the stored object is not what it wrote, deletes
// it, and fails the write: nothing wrong stays visible.
func TestWrongStoredObjectIsRemoved(t *testing.T) {
	srv := emulator.FakeGCS(t, "bkt")
	p, err := faultproxy.New(srv.Endpoint, 1)
	require.NoError(t, err)
	defer p.Close()
	p.TargetHost = true
	chunk := 256 << 10
	var chunks atomic.Int32
	p.Add(faultproxy.Rule{Kind: faultproxy.ResetResponse, Times: 1, Match: func(r *http.Request) bool {
		return r.URL.Query().Get("upload_id") != "" && r.ContentLength == int64(chunk) && chunks.Add(1) == 2
	}})
	ctx := context.Background()
	b, err := gcp.OpenBucket(ctx, "bkt", gcp.Options{Endpoint: p.URL() + "/storage/v1/", Anonymous: true,
		Retry: blob.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}})
	require.NoError(t, err)
	defer b.Close()
	data := bytes.Repeat([]byte("0123456789abcdef"), 4*chunk/16+100)
	err = blob.WriteAll(ctx, b, "obj", data, &blob.WriterOptions{PartSize: int64(chunk)})
	require.Equal(t, 1, p.Total(), "the second chunk's answer was lost")
	require.ErrorIs(t, err, blob.ErrInternal)
	require.ErrorContains(t, err, "it was deleted")
	ok, err := blob.Exists(ctx, b, "obj")
	require.NoError(t, err)
	require.False(t, ok, "nothing wrong stays visible")
}
