package azure_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/azure"
)

// throughProxy opens container name on Azurite through a fault proxy, and
// straight. gets counts the GET requests that went through the proxy.
func throughProxy(t *testing.T, name string) (p *faultproxy.Proxy, b, direct blob.Bucket, gets *atomic.Int32) {
	ctx := context.Background()
	az := emulator.Azurite(t, nil)
	p, err := faultproxy.New(az.BlobEndpoint, 1)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	p.MinBody = 1024
	gets = &atomic.Int32{}
	p.OnRequest = func(r *http.Request) {
		if r.Method == http.MethodGet {
			gets.Add(1)
		}
	}
	c, err := azure.New(ctx, azure.Options{ServiceURL: p.URL() + "/" + az.Account, Account: az.Account, SharedKey: az.Key,
		Retry: blob.RetryPolicy{BaseDelay: 1e6, MaxDelay: 1e7}})
	require.NoError(t, err)
	require.NoError(t, c.CreateContainer(ctx, name))
	b, err = c.Bucket(name)
	require.NoError(t, err)
	dc, err := azure.New(ctx, azure.Options{ConnectionString: az.ConnectionString})
	require.NoError(t, err)
	direct, err = dc.Bucket(name)
	require.NoError(t, err)
	return p, b, direct, gets
}

func isGet(r *http.Request) bool { return r.Method == http.MethodGet }

func readRange(ctx context.Context, b blob.Bucket, key string, off, n int64) ([]byte, error) {
	r, err := b.NewRangeReader(ctx, key, off, n, nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func TestFlippedByteFailsTheRead(t *testing.T) {
	ctx := context.Background()
	p, b, _, _ := throughProxy(t, "integrity")
	small := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB, one Put Blob
	staged := bytes.Repeat([]byte("fedcba9876543210"), 40<<10)
	require.NoError(t, blob.WriteAll(ctx, b, "small", small, nil))
	require.NoError(t, blob.WriteAll(ctx, b, "staged", staged, &blob.WriterOptions{PartSize: azure.MinBlockSize}), "10 blocks")
	for key, data := range map[string][]byte{"small": small, "staged": staged} {
		got, err := blob.ReadAll(ctx, b, key)
		require.NoError(t, err, "an honest wire reads back")
		require.Equal(t, data, got)

		p.Add(faultproxy.Rule{Kind: faultproxy.FlipByte, Match: isGet, Times: 1})
		_, err = blob.ReadAll(ctx, b, key)
		require.ErrorIs(t, err, blob.ErrInternal, "%s: a flipped byte is never good data", key)
		require.ErrorContains(t, err, "checksum mismatch")
	}

	// A range of up to 4 MiB is checked against the MD5 the service sends
	// for the range.
	p.Add(faultproxy.Rule{Kind: faultproxy.FlipByte, Match: isGet, Times: 1})
	_, err := readRange(ctx, b, "small", 10, 2000)
	require.ErrorIs(t, err, blob.ErrInternal, "a flipped byte in a range fails too")
	got, err := readRange(ctx, b, "small", 10, 2000)
	require.NoError(t, err)
	require.Equal(t, small[10:2010], got)
}

// TestLongRangesAreReadInCheckedWindows reads ranges longer than the 4 MiB
// the service sends an MD5 for: in windows of 4 MiB, each checked, each
// pinned to the first one's ETag.
func TestLongRangesAreReadInCheckedWindows(t *testing.T) {
	ctx := context.Background()
	p, b, direct, gets := throughProxy(t, "windows")
	data := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstu!"), 320<<10) // 10 MiB
	require.NoError(t, blob.WriteAll(ctx, direct, "big", data, nil))

	for _, rg := range []struct{ off, n, gets int64 }{
		{1 << 20, 8 << 20, 2},     // two windows
		{1 << 20, 8<<20 + 1, 3},   // a third of one byte
		{3 << 20, -1, 2},          // to the end: 4 MiB + 3 MiB
		{9 << 20, 5 << 20, 1},     // past the end: one short window
		{0, int64(len(data)), 3},  // the whole blob as a range
		{100, 4 << 20, 1},         // exactly one window
		{5<<20 + 7, 4<<20 + 1, 2}, // unaligned
		{0, 4<<20 - 1, 1},         // just under
	} {
		gets.Store(0)
		got, err := readRange(ctx, b, "big", rg.off, rg.n)
		require.NoError(t, err)
		end := int64(len(data))
		if rg.n >= 0 {
			end = min(end, rg.off+rg.n)
		}
		require.True(t, bytes.Equal(data[rg.off:end], got), "range %d+%d", rg.off, rg.n)
		require.Equal(t, rg.gets, int64(gets.Load()), "range %d+%d: requests", rg.off, rg.n)
	}

	// A flip in the second window fails the read, after the first window.
	flips := 0
	p.Add(faultproxy.Rule{Kind: faultproxy.FlipByte, Times: 1, Match: func(r *http.Request) bool {
		if isGet(r) {
			flips++
			return flips == 2
		}
		return false
	}})
	got, err := readRange(ctx, b, "big", 1<<20, 8<<20)
	require.ErrorIs(t, err, blob.ErrInternal)
	require.ErrorContains(t, err, "checksum mismatch")
	require.LessOrEqual(t, len(got), 8<<20, "the bad window is not handed over whole")

	// The blob replaced between windows fails the read instead of
	// stitching two versions together.
	r, err := b.NewRangeReader(ctx, "big", 0, 9<<20, nil)
	require.NoError(t, err)
	first := make([]byte, 4<<20)
	_, err = io.ReadFull(r, first)
	require.NoError(t, err)
	require.NoError(t, blob.WriteAll(ctx, direct, "big", bytes.Repeat([]byte("x"), len(data)), nil))
	_, err = io.ReadAll(r)
	require.ErrorIs(t, err, blob.ErrPreconditionFailed)
	require.NoError(t, r.Close())
}

func TestReadResumesAfterACut(t *testing.T) {
	ctx := context.Background()
	p, b, _, _ := throughProxy(t, "resume")
	data := bytes.Repeat([]byte("abcdefghijklmnop"), 16<<10) // 256 KiB
	require.NoError(t, blob.WriteAll(ctx, b, "obj", data, nil))

	p.Add(faultproxy.Rule{Kind: faultproxy.CutResponse, Match: isGet, Times: 2})
	got, err := blob.ReadAll(ctx, b, "obj")
	require.NoError(t, err, "a read cut short resumes")
	require.Equal(t, data, got, "and is whole, checked against its MD5")
	require.Equal(t, 2, p.Struck()[faultproxy.CutResponse])
}

// TestBlockListCarriesItsMD5 checks that Put Block List goes with the MD5
// of its body (which Azure checks; the SDK does not send one), signed so
// that the service accepts it, and that the committed blob has the whole
// content's MD5 for later reads.
func TestBlockListCarriesItsMD5(t *testing.T) {
	ctx := context.Background()
	p, b, direct, _ := throughProxy(t, "blocklist")
	var commits []string
	var mu sync.Mutex
	p.OnRequest = func(r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Query().Get("comp") == "blocklist" {
			mu.Lock()
			commits = append(commits, r.Header.Get("Content-MD5"))
			mu.Unlock()
		}
	}
	data := bytes.Repeat([]byte("block list "), 30<<10)
	require.NoError(t, blob.WriteAll(ctx, b, "staged", data, &blob.WriterOptions{PartSize: azure.MinBlockSize}))
	require.Len(t, commits, 1)
	sum, err := base64.StdEncoding.DecodeString(commits[0])
	require.NoError(t, err)
	require.Len(t, sum, md5.Size)

	whole := md5.Sum(data)
	a, err := direct.Attributes(ctx, "staged")
	require.NoError(t, err)
	require.Equal(t, whole[:], a.MD5, "the blob carries its whole MD5")
}
