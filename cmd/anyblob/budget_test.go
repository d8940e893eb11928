package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/aws"
)

// The -j budget: every file takes a part, a large one as many more as are
// free, and a file waits while none is.
func TestPartsShareTheBudget(t *testing.T) {
	x := &xfer{budget: make(chan struct{}, 4)}
	for range 4 {
		x.budget <- struct{}{}
	}
	ctx := context.Background()
	big := job{op: opUpload, size: 100 << 20}
	n, releaseBig, err := x.parts(ctx, big)
	require.NoError(t, err)
	require.Equal(t, 4, n, "a large file alone takes every free part, up to -j")

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, _, err = x.parts(short, job{op: opUpload, size: 10})
	require.ErrorIs(t, err, context.DeadlineExceeded, "no part free: a file waits")

	releaseBig()
	n, releaseSmall, err := x.parts(ctx, job{op: opDownload, size: 10})
	require.NoError(t, err)
	require.Equal(t, 1, n, "a small file takes one")
	n, releaseMid, err := x.parts(ctx, job{op: opCopy, size: 20 << 20})
	require.NoError(t, err)
	require.Equal(t, 3, n, "20 MiB wants 3 parts of 8 MiB, and 3 are free")
	releaseSmall()
	releaseMid()
	require.Len(t, x.budget, 4, "every part given back")

	n, release, err := (&xfer{}).parts(ctx, big)
	require.NoError(t, err)
	require.Zero(t, n, "one file alone: no budget, the backend's own concurrency")
	release()
}

// A large file among small ones, uploaded recursively to MinIO with -j 4,
// sends its parts side by side (it goes first, and even were the small
// ones to take their parts before it, two would be left), and the
// transfer never has more than 4 part or object uploads in flight.
func TestLargeFileAmongSmallOnesGoesParallel(t *testing.T) {
	s := emulator.MinIO(t)
	c, err := aws.New(context.Background(), aws.Options{Region: s.Region, Endpoint: s.Endpoint,
		Credentials: sigv4.StaticCredentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey}})
	require.NoError(t, err)
	require.NoError(t, c.CreateBucket(context.Background(), "budget"))
	target, err := url.Parse(s.Endpoint)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target) // keeps the Host the request was signed for
	var puts, parts, peakPuts, peakParts atomic.Int32
	peak := func(p *atomic.Int32, n int32) {
		for m := p.Load(); n > m && !p.CompareAndSwap(m, n); m = p.Load() {
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			peak(&peakPuts, puts.Add(1))
			defer puts.Add(-1)
			if r.URL.Query().Get("partNumber") != "" {
				peak(&peakParts, parts.Add(1))
				defer parts.Add(-1)
			}
		}
		rp.ServeHTTP(w, r)
	}))
	defer srv.Close()
	minioEnv(t, s)
	cl := &cli{t: t, bucket: "s3://budget?" + url.Values{"region": {s.Region}, "endpoint": {srv.URL}}.Encode()}

	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), (40<<20)/16)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o666))
	for _, name := range []string{"a.txt", "c.txt"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("small "+name), 0o666))
	}
	cl.ok("", "cp", "-r", "-q", "-j", "4", dir+"/", ":tree/")
	require.Greater(t, peakParts.Load(), int32(1), "the large file's parts went side by side")
	require.LessOrEqual(t, peakPuts.Load(), int32(4), "never more than -j uploads in flight")

	back := t.TempDir()
	cl.ok("", "cp", "-r", "-q", "-j", "4", ":tree/", back+"/")
	got, err := os.ReadFile(filepath.Join(back, "big.bin"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(big, got))
}
