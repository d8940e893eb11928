package azure

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

// rangeOf is the range a Get Blob asks for (the SDK sends x-ms-range), or
// "".
func rangeOf(r *http.Request) string {
	if v := r.Header.Get("x-ms-range"); v != "" {
		return v
	}
	return r.Header.Get("Range")
}

// TestParallelReads reads a blob through a fault proxy with 1 MiB parts
// and a probe that never finds loopback fast enough, so that it is fetched
// as ranges: the stream is whole and in order (through Read and WriteTo),
// every part after the first answer is asked for once and carries its own
// MD5, a cut range resumes, a flipped byte fails the read, a blob
// replaced mid-read fails it, and Close mid-read leaves no goroutine
// behind. A fast link keeps one stream.
func TestParallelReads(t *testing.T) {
	ctx := context.Background()
	az := emulator.Azurite(t, nil)
	p, err := faultproxy.New(az.BlobEndpoint, 1)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	p.MinBody = 1024
	open := func(fastLink int64) blob.Bucket {
		c, err := New(ctx, Options{ServiceURL: p.URL() + "/" + az.Account, Account: az.Account, SharedKey: az.Key,
			Retry: blob.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}, ReadPartSize: 1 << 20, ReadConcurrency: 3})
		require.NoError(t, err)
		c.read.FastLink = fastLink
		b, err := c.Bucket("parallel")
		require.NoError(t, err)
		return b
	}
	dc, err := New(ctx, Options{ConnectionString: az.ConnectionString})
	require.NoError(t, err)
	require.NoError(t, dc.CreateContainer(ctx, "parallel"))
	direct, err := dc.Bucket("parallel")
	require.NoError(t, err)
	b := open(1 << 62) // loopback is never far enough: go parallel
	data := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuv"), (9<<20+12345)/32)
	require.NoError(t, blob.WriteAll(ctx, direct, "big", data, &blob.WriterOptions{PartSize: 2 << 20}))

	var mu sync.Mutex
	var asked []string
	md5s := 0
	p.OnRequest = func(r *http.Request) {
		if r.Method == http.MethodGet && rangeOf(r) != "" {
			mu.Lock()
			asked = append(asked, rangeOf(r))
			if r.Header.Get("x-ms-range-get-content-md5") == "true" {
				md5s++
			}
			mu.Unlock()
		}
	}
	got, err := blob.ReadAll(ctx, b, "big")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "whole and in order")
	mu.Lock()
	sort.Strings(asked)
	require.NotEmpty(t, asked)
	require.Equal(t, len(asked), md5s, "every range asks for its own MD5")
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
	got, err = blob.ReadAll(ctx, open(1), "big")
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

	isRange := func(r *http.Request) bool { return r.Method == http.MethodGet && rangeOf(r) != "" }
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
	// pinned to the first ETag, fail.
	r, err = b.NewReader(ctx, "big", nil)
	require.NoError(t, err)
	_, err = io.ReadFull(r, make([]byte, 1000))
	require.NoError(t, err)
	require.NoError(t, blob.WriteAll(ctx, direct, "big", bytes.Repeat([]byte("x"), len(data)), nil))
	_, err = io.Copy(io.Discard, r)
	r.Close()
	require.ErrorIs(t, err, blob.ErrPreconditionFailed, "no stitched read")

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
	_, err := New(context.Background(), Options{ConnectionString: "UseDevelopmentStorage=true", ReadConcurrency: -1})
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.ErrorContains(t, err, "ReadConcurrency")
	_, err = New(context.Background(), Options{ConnectionString: "UseDevelopmentStorage=true", ReadPartSize: 1000})
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.ErrorContains(t, err, "under 1 MiB")
}
