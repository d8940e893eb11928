package all_test

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
	"github.com/anyblob/anyblob/blobtest/netsim"
)

// rangeOf is the byte range a GET asks for (the azblob SDK sends
// x-ms-range), or "".
func rangeOf(r *http.Request) string {
	if v := r.Header.Get("x-ms-range"); v != "" {
		return v
	}
	return r.Header.Get("Range")
}

// TestParallelReadsOnEveryCloud reads a 9 MiB object of MinIO, Azurite and
// fake-gcs-server over a link that carries 16 MiB/s a connection (so the
// probe of the first MiB finds one connection the limit), through the
// fault proxy, with parts of 1 MiB, at most 3 at once. On every cloud:
// the stream is whole and in order through Read, WriteTo and DownloadAt;
// every part after the first answer is asked for once (with its own MD5
// where the service sends one); ReaderOptions.Concurrency 1 keeps one
// stream; a cut range resumes; a flipped byte fails the read by the whole
// object's checksum; an object replaced mid-read fails it; Close mid-read
// leaves no fetch running.
func TestParallelReadsOnEveryCloud(t *testing.T) {
	link := &netsim.Link{Rate: 16 << 20}
	for _, fb := range faultyBackendsWith(t, "parallel", 1, reads{partSize: 1 << 20, conc: 3, link: link}) {
		t.Run(fb.name, func(t *testing.T) {
			ctx := context.Background()
			p := fb.proxy
			b := fb.open(t, fastRetry)
			data := pattern(9<<20+12345, 5)
			require.NoError(t, blob.WriteAll(ctx, fb.direct, "big", data, &blob.WriterOptions{PartSize: 5 << 20}))
			isRange := func(r *http.Request) bool { return fb.isRead(r) && rangeOf(r) != "" }

			var mu sync.Mutex
			var asked []string
			md5s := 0
			p.OnRequest = func(r *http.Request) {
				if isRange(r) {
					mu.Lock()
					asked = append(asked, rangeOf(r))
					if r.Header.Get("x-ms-range-get-content-md5") == "true" {
						md5s++
					}
					mu.Unlock()
				}
			}
			defer func() { p.OnRequest = nil }()
			takeAsked := func() []string {
				mu.Lock()
				defer mu.Unlock()
				a := asked
				asked, md5s = nil, 0
				return a
			}

			got, err := blob.ReadAll(ctx, b, "big")
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, got), "whole and in order")
			mu.Lock()
			if fb.rangesChecked {
				require.Equal(t, len(asked), md5s, "every range asks for its own MD5")
			}
			mu.Unlock()
			ranges := takeAsked()
			sort.Strings(ranges)
			require.NotEmpty(t, ranges, "a far link: the read went parallel")
			first := int64(len(data))
			for _, a := range ranges {
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
			require.Equal(t, want, ranges, "every part after the first answer, once")

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
			require.NotEmpty(t, takeAsked(), "DownloadAt went parallel")

			// A read's own bound of 1 keeps one stream on a far link too.
			r, err := b.NewReader(ctx, "big", &blob.ReaderOptions{Concurrency: 1})
			require.NoError(t, err)
			got, err = io.ReadAll(r)
			require.NoError(t, err)
			require.NoError(t, r.Close())
			require.True(t, bytes.Equal(data, got))
			require.Empty(t, takeAsked(), "ReaderOptions.Concurrency 1: one stream")

			r, err = b.NewReader(ctx, "big", nil)
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
			require.Equal(t, 2, p.Struck()[faultproxy.CutResponse])
			p.Clear()

			p.Add(faultproxy.Rule{Kind: faultproxy.FlipByte, Match: isRange, Times: 1})
			_, err = blob.ReadAll(ctx, b, "big")
			require.ErrorIs(t, err, blob.ErrInternal, "a flipped byte in a range fails the read")
			require.ErrorContains(t, err, "checksum mismatch")
			p.Clear()

			// The same into a file, whose parts are checked where they
			// land (S3 and GCS join their CRCs; Azure hashes in order).
			flips := p.Struck()[faultproxy.FlipByte]
			p.Add(faultproxy.Rule{Kind: faultproxy.FlipByte, Match: isRange, Times: 1})
			f, err = os.Create(filepath.Join(t.TempDir(), "flipped"))
			require.NoError(t, err)
			_, err = blob.DownloadAt(ctx, b, "big", f)
			require.NoError(t, f.Close())
			require.ErrorIs(t, err, blob.ErrInternal, "DownloadAt: a flipped byte in a range fails the read")
			require.ErrorContains(t, err, "checksum mismatch")
			require.Equal(t, 1, p.Struck()[faultproxy.FlipByte]-flips)
			p.Clear()

			// Replaced while the first answer is being read: the ranges,
			// pinned to its version, fail.
			r, err = b.NewReader(ctx, "big", nil)
			require.NoError(t, err)
			_, err = io.ReadFull(r, make([]byte, 1000))
			require.NoError(t, err)
			require.NoError(t, blob.WriteAll(ctx, fb.direct, "big", pattern(len(data), 6), nil))
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
		})
	}
}

// A read with Options.ReadTarget asks for as many parts at once as the
// target over the rate one connection showed: on a 16 MiB/s-a-connection
// link a 20 MiB/s target means 2 (up to 4 were the probe, on a loaded
// machine, to see the link at a third of its rate), where adapting would
// start with all 8 the bound allows. The far link counts the connections
// the reads opened.
func TestReadTargetOnEveryCloud(t *testing.T) {
	link := &netsim.Link{Rate: 16 << 20}
	for _, fb := range faultyBackendsWith(t, "target", 1, reads{partSize: 1 << 20, conc: 8, target: 20 << 20, link: link}) {
		t.Run(fb.name, func(t *testing.T) {
			ctx := context.Background()
			b := fb.open(t, fastRetry)
			data := pattern(12<<20, 9)
			require.NoError(t, blob.WriteAll(ctx, fb.direct, "big", data, &blob.WriterOptions{PartSize: 5 << 20}))
			var ranges atomic.Int32
			fb.proxy.OnRequest = func(r *http.Request) {
				if fb.isRead(r) && rangeOf(r) != "" {
					ranges.Add(1)
				}
			}
			defer func() { fb.proxy.OnRequest = nil }()
			before := fb.link.Connections()
			got, err := blob.ReadAll(ctx, b, "big")
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, got))
			require.Equal(t, int32(10), ranges.Load(), "parallel: the 10 parts after the first answer's 2 MiB")
			opened := fb.link.Connections() - before
			require.LessOrEqual(t, opened, int64(1+4), "the first answer's connection and one per part at once")
		})
	}
}

// TestWriteTargetOnEveryCloud writes a file over a far link of 16 MiB/s
// per connection with a WriteTarget of 30 MiB/s (on GCS, a composed
// write): two parts go first, and the first to finish asks for two at
// once, or three or four if a loaded machine made it slower than the link
// (up to 40% slower). The parts in flight at once are counted at the
// fault proxy: at most four, where without the target the write starts
// with eight.
func TestWriteTargetOnEveryCloud(t *testing.T) {
	link := &netsim.Link{Rate: 16 << 20}
	parts := map[string]int64{"s3": 5 << 20, "azblob": 2 << 20, "gs": 2 << 20}
	peaks := func(rd reads) map[string]int32 {
		out := map[string]int32{}
		for _, fb := range faultyBackendsWith(t, "wtarget", 1, rd) {
			ctx := context.Background()
			b := fb.open(t, fastRetry)
			data := pattern(int(8*parts[fb.name]), 5)
			// The client's first staged write learns what the server takes
			// (strict Azurite refuses a block's CRC64, and the client then
			// sends MD5s): settled first, so the first part's rate is the
			// link's.
			require.NoError(t, blob.Upload(ctx, b, "settle", bytes.NewReader(data[:3*fb.partSize]), &blob.WriterOptions{PartSize: int64(fb.partSize)}))
			var inFlight, peak atomic.Int32
			isPart := func(r *http.Request) bool {
				composedPart := fb.name == "gs" && r.URL.Query().Get("uploadType") == "multipart"
				// A composed part is streamed: its length is not declared.
				return (fb.isWrite(r) && r.ContentLength >= parts[fb.name]/2) || (composedPart && r.ContentLength < 0)
			}
			fb.proxy.OnRequest = func(r *http.Request) {
				if isPart(r) {
					n := inFlight.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
				}
			}
			fb.proxy.OnDone = func(r *http.Request) {
				if isPart(r) {
					inFlight.Add(-1)
				}
			}
			require.NoError(t, blob.Upload(ctx, b, "big", bytes.NewReader(data), &blob.WriterOptions{PartSize: parts[fb.name]}), fb.name)
			fb.proxy.OnRequest, fb.proxy.OnDone = nil, nil
			out[fb.name] = peak.Load()
			got, err := blob.ReadAll(ctx, fb.direct, "big")
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, got), fb.name)
		}
		return out
	}
	targeted := peaks(reads{conc: 1, writeTarget: 30 << 20, link: link})
	for name, n := range targeted {
		require.LessOrEqual(t, n, int32(4), "%s: two parts, then what the target needs", name)
		require.GreaterOrEqual(t, n, int32(2), "%s", name)
	}
	free := peaks(reads{conc: 1, link: link})
	t.Logf("parts at once: with the target %v, without %v", targeted, free)
	for name, n := range free {
		if name == "gs" {
			continue // without a target, GCS writes this file as one stream
		}
		require.GreaterOrEqual(t, n, int32(6), "%s: without a target, eight parts go at once", name)
	}
}
