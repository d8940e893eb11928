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

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
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
