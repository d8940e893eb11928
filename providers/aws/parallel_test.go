package aws

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
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
	"github.com/anyblob/anyblob/conformance/emulator"
)

// TestParallelReads reads a large object through a fault proxy with
// small parts, so that it is fetched as ranges: the stream is whole and
// in order (through Read and WriteTo), a range cut mid-body resumes, a
// byte flipped in a range fails the read by the whole object's checksum,
// an object replaced mid-read fails it, and Close mid-read leaves no
// goroutine behind.
func TestParallelReads(t *testing.T) {
	testEnv(t)
	ctx := context.Background()
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	direct, name := newBucket(t, c)
	p, err := faultproxy.New(ep.Endpoint, 1)
	require.NoError(t, err)
	defer p.Close()
	p.MinBody = 1024
	opts := minioOptions(ep)
	opts.Endpoint = p.URL()
	opts.ReadPartSize = 1 << 20
	opts.ReadConcurrency = 3
	pc := newClient(t, opts)
	pc.fastLink = 1 << 62 // loopback is never far enough: go parallel
	b, err := pc.Bucket(name)
	require.NoError(t, err)
	data := pattern(9<<20+12345, 5)
	require.NoError(t, blob.WriteAll(ctx, direct, "big", data, nil))
	isRange := func(r *http.Request) bool { return r.Method == http.MethodGet && r.Header.Get("Range") != "" }

	var ranges atomic.Int32
	var mu sync.Mutex
	var asked []string
	p.OnRequest = func(r *http.Request) {
		if isRange(r) {
			ranges.Add(1)
			mu.Lock()
			asked = append(asked, r.Header.Get("Range"))
			mu.Unlock()
		}
	}
	got, err := blob.ReadAll(ctx, b, "big")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "whole and in order")
	// The first answer serves the 1 MiB probe and on to the next part
	// boundary (where the probe's last read ended decides which); from
	// there to the end, the object comes as 1 MiB ranges, each once.
	mu.Lock()
	sort.Strings(asked)
	mu.Unlock()
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

	// At loopback speed the probe keeps one stream.
	ranges.Store(0)
	fc := newClient(t, opts)
	fc.fastLink = 1 // every link is fast enough
	fast, err := fc.Bucket(name)
	require.NoError(t, err)
	got, err = blob.ReadAll(ctx, fast, "big")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))
	require.Zero(t, ranges.Load(), "one stream on a fast link")

	// A read's own bound of 1 keeps one stream on a far link too.
	r1, err := b.NewReader(ctx, "big", &blob.ReaderOptions{Concurrency: 1})
	require.NoError(t, err)
	got, err = io.ReadAll(r1)
	require.NoError(t, err)
	require.NoError(t, r1.Close())
	require.True(t, bytes.Equal(data, got))
	require.Zero(t, ranges.Load(), "ReaderOptions.Concurrency 1: one stream")
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
	r.Close()
	require.True(t, bytes.Equal(data, small.Bytes()), "through Read in small pieces")

	p.Add(faultproxy.Rule{Kind: faultproxy.CutResponse, Match: isRange, Times: 2})
	got, err = blob.ReadAll(ctx, b, "big")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "cut ranges resume")
	p.Clear()

	p.Add(faultproxy.Rule{Kind: faultproxy.FlipByte, Match: isRange, Times: 1})
	_, err = blob.ReadAll(ctx, b, "big")
	require.ErrorIs(t, err, blob.ErrInternal, "a flipped byte in a range fails the whole read")
	require.Contains(t, err.Error(), "checksum mismatch")
	p.Clear()

	// Replaced while the first part is being read: the later ranges,
	// pinned to the first ETag, fail.
	r, err = b.NewReader(ctx, "big", nil)
	require.NoError(t, err)
	_, err = io.ReadFull(r, make([]byte, 1000))
	require.NoError(t, err)
	require.NoError(t, blob.WriteAll(ctx, direct, "big", pattern(9<<20+12345, 6), nil))
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
