package gcp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
	"github.com/anyblob/anyblob/conformance/emulator"
)

// TestParallelReads reads an object of fake-gcs-server through a fault
// proxy with 1 MiB parts and a probe that never finds loopback fast
// enough, so that it is fetched as ranges: the stream is whole and in
// order, every part after the first answer is asked for once, a cut range
// resumes, a flipped byte fails the read by the object's CRC32C, an
// object replaced mid-read fails it, and Close mid-read leaves no
// goroutine behind. A fast link keeps one stream.
func TestParallelReads(t *testing.T) {
	ctx := context.Background()
	gs := emulator.FakeGCS(t, "parallel")
	p, err := faultproxy.New(gs.Endpoint, 1)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	p.MinBody = 1024
	p.TargetHost = true // fake-gcs-server routes by Host
	open := func(endpoint string, fastLink int64) blob.Bucket {
		c, err := New(ctx, Options{Endpoint: endpoint + "/storage/v1/", Anonymous: true,
			Retry: blob.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}, ReadPartSize: 1 << 20, ReadConcurrency: 3})
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		c.read.FastLink = fastLink
		b, err := c.Bucket("parallel")
		require.NoError(t, err)
		return b
	}
	direct := open(gs.Endpoint, 0)
	b := open(p.URL(), 1<<62) // loopback is never far enough: go parallel
	data := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuv"), (9<<20+12345)/32)
	require.NoError(t, blob.WriteAll(ctx, direct, "big", data, nil))

	var mu sync.Mutex
	var asked []string
	isRange := func(r *http.Request) bool { return r.Method == http.MethodGet && r.Header.Get("Range") != "" }
	p.OnRequest = func(r *http.Request) {
		if isRange(r) {
			mu.Lock()
			asked = append(asked, r.Header.Get("Range"))
			mu.Unlock()
		}
	}
	got, err := blob.ReadAll(ctx, b, "big")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "whole and in order")
	mu.Lock()
	sort.Strings(asked)
	require.NotEmpty(t, asked)
	first := int64(len(data))
	for _, a := range asked {
		var off int64
		_, err := fmt.Sscanf(a, "bytes=%d-", &off)
		require.NoError(t, err, a)
		first = min(first, off)
	}
	require.GreaterOrEqual(t, first, int64(2<<20), "the probe's MiB came with the first answer")
	require.Zero(t, first%(1<<20), "ranges start at a part boundary")
	var want []string
	for off := first; off < int64(len(data)); off += 1 << 20 {
		want = append(want, fmt.Sprintf("bytes=%d-%d", off, min(off+1<<20, int64(len(data)))-1))
	}
	sort.Strings(want)
	require.Equal(t, want, asked, "every part after the first answer, once")
	asked = nil
	mu.Unlock()

	// Into a file: each part written where it belongs as it comes.
	f, err := os.Create(filepath.Join(t.TempDir(), "big"))
	require.NoError(t, err)
	n, err := blob.DownloadAt(ctx, b, "big", f)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.NoError(t, f.Close())
	got, err = os.ReadFile(f.Name())
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "DownloadAt: every byte where it belongs")
	mu.Lock()
	require.NotEmpty(t, asked, "DownloadAt went parallel")
	asked = nil
	mu.Unlock()

	// At loopback speed the probe keeps one stream.
	got, err = blob.ReadAll(ctx, open(p.URL(), 1), "big")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))
	mu.Lock()
	require.Empty(t, asked, "one stream on a fast link")
	mu.Unlock()

	// A read's own bound of 1 keeps one stream on a far link too.
	r1, err := b.NewReader(ctx, "big", &blob.ReaderOptions{Concurrency: 1})
	require.NoError(t, err)
	got, err = io.ReadAll(r1)
	require.NoError(t, err)
	require.NoError(t, r1.Close())
	require.True(t, bytes.Equal(data, got))
	mu.Lock()
	require.Empty(t, asked, "ReaderOptions.Concurrency 1: one stream")
	mu.Unlock()
	p.OnRequest = nil

	r, err := b.NewReader(ctx, "big", nil)
	require.NoError(t, err)
	var small bytes.Buffer
	buf := make([]byte, 777)
	for {
		n, err := r.Read(buf)
		small.Write(buf[:n])
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	require.NoError(t, r.Close())
	require.True(t, bytes.Equal(data, small.Bytes()), "through Read in small pieces")

	p.Add(faultproxy.Rule{Kind: faultproxy.CutResponse, Match: isRange, Times: 2})
	got, err = blob.ReadAll(ctx, b, "big")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "cut ranges resume")
	p.Clear()

	p.Add(faultproxy.Rule{Kind: faultproxy.FlipByte, Match: isRange, Times: 1})
	_, err = blob.ReadAll(ctx, b, "big")
	require.ErrorIs(t, err, blob.ErrInternal, "a flipped byte in a range fails the read")
	require.ErrorContains(t, err, "checksum mismatch")
	p.Clear()

	// Replaced while the first part is being read: the later ranges,
	// pinned to the first generation, fail.
	r, err = b.NewReader(ctx, "big", nil)
	require.NoError(t, err)
	_, err = io.ReadFull(r, make([]byte, 1000))
	require.NoError(t, err)
	require.NoError(t, blob.WriteAll(ctx, direct, "big", bytes.Repeat([]byte("x"), len(data)), nil))
	_, err = io.Copy(io.Discard, r)
	r.Close()
	require.Error(t, err, "no stitched read")

	before := runtime.NumGoroutine()
	for range 5 {
		r, err := b.NewReader(ctx, "big", nil)
		require.NoError(t, err)
		_, err = io.ReadFull(r, make([]byte, 10))
		require.NoError(t, err)
		require.NoError(t, r.Close())
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before+2, "Close leaves no fetch running")
}

func TestReadOptionsAreChecked(t *testing.T) {
	_, err := New(context.Background(), Options{Anonymous: true, ReadConcurrency: -1})
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.ErrorContains(t, err, "ReadConcurrency")
	_, err = New(context.Background(), Options{Anonymous: true, ReadPartSize: 1000})
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.ErrorContains(t, err, "under 1 MiB")
}
