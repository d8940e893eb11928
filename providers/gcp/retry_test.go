package gcp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/gcp"
)

// failingProxy forwards to target, but answers status instead for the
// first n requests of every method and path (n < 0: every request).
type failingProxy struct {
	status int
	n      int
	mu     sync.Mutex
	seen   map[string]int
	fails  atomic.Int32
}

func (p *failingProxy) start(t *testing.T, target string) *httptest.Server {
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u) // and the Host: fake-gcs-server routes downloads by it
		r.Out.Host = u.Host
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		k := r.Method + " " + r.URL.Path
		p.seen[k]++
		fail := p.n < 0 || p.seen[k] <= p.n
		p.mu.Unlock()
		if fail {
			p.fails.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(p.status)
			_, _ = fmt.Fprintf(w, `{"error":{"code":%d,"message":"injected by the test proxy"}}`, p.status)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func openThrough(t *testing.T, proxyURL, bucket string) blob.Bucket {
	c, err := gcp.New(context.Background(), gcp.Options{Endpoint: proxyURL, Anonymous: true, Project: "p"})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	b, err := c.Bucket(bucket)
	require.NoError(t, err)
	return b
}

func TestOneFailureIsRetriedForEveryOperation(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := emulator.FakeGCS(t, "bkt")
			p := &failingProxy{status: status, n: 1, seen: map[string]int{}}
			b := openThrough(t, p.start(t, srv.Endpoint).URL, "bkt")
			ctx := context.Background()
			require.NoError(t, blob.WriteAll(ctx, b, "k", []byte("v"), nil), "an unconditional write is retried")
			got, err := blob.ReadAll(ctx, b, "k")
			require.NoError(t, err)
			require.Equal(t, "v", string(got))
			_, err = b.List(ctx, nil)
			require.NoError(t, err)
			require.NoError(t, b.Delete(ctx, "k"), "a delete is retried")
			ok, err := blob.Exists(ctx, b, "k")
			require.NoError(t, err)
			require.False(t, ok)
			require.GreaterOrEqual(t, p.fails.Load(), int32(4), "each operation met a failure")
		})
	}
}

func TestRepeatedFailuresEndWithTheCause(t *testing.T) {
	for status, want := range map[int]error{http.StatusServiceUnavailable: blob.ErrThrottled, http.StatusInternalServerError: blob.ErrInternal} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := emulator.FakeGCS(t, "bkt")
			p := &failingProxy{status: status, n: -1, seen: map[string]int{}}
			b := openThrough(t, p.start(t, srv.Endpoint).URL, "bkt")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := b.Attributes(ctx, "k")
			require.ErrorIs(t, err, want, "the last answer's kind, not a deadline: %v", err)
			require.NotErrorIs(t, err, blob.ErrCanceled)
			require.Equal(t, int32(blob.DefaultMaxAttempts), p.fails.Load(), "sent MaxAttempts times")
			require.NoError(t, ctx.Err())
		})
	}
}
