package azure_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/azure"
)

// flipProxy forwards to target and, while flip is set, flips one byte in
// the middle of every GET response body of at least 1 KiB: a corruption
// on the wire that TCP did not catch.
func flipProxy(t *testing.T, target string) (*httptest.Server, *atomic.Bool) {
	return faultProxy(t, target, func(body []byte) io.Reader {
		body[len(body)/2] ^= 0x01
		return bytes.NewReader(body)
	})
}

// faultProxy forwards to target and, while its switch is set, hands every
// GET response body of at least 1 KiB through fault.
func faultProxy(t *testing.T, target string, fault func(body []byte) io.Reader) (*httptest.Server, *atomic.Bool) {
	u, err := url.Parse(target)
	require.NoError(t, err)
	var flip atomic.Bool
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	rp.ModifyResponse = func(resp *http.Response) error {
		if !flip.Load() || resp.Request.Method != http.MethodGet || resp.ContentLength < 1024 {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body.Close()
		resp.Body = io.NopCloser(fault(body))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv, &flip
}

func TestFlippedByteFailsTheRead(t *testing.T) {
	ctx := context.Background()
	az := emulator.Azurite(t, nil)
	proxy, flip := flipProxy(t, az.BlobEndpoint)
	c, err := azure.New(ctx, azure.Options{ServiceURL: proxy.URL + "/" + az.Account, Account: az.Account, SharedKey: az.Key})
	require.NoError(t, err)
	require.NoError(t, c.CreateContainer(ctx, "integrity"))
	b, err := c.Bucket("integrity")
	require.NoError(t, err)

	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB, one Put Blob
	require.NoError(t, blob.WriteAll(ctx, b, "obj", data, nil))
	got, err := blob.ReadAll(ctx, b, "obj")
	require.NoError(t, err, "an honest wire reads back")
	require.Equal(t, data, got)

	flip.Store(true)
	_, err = blob.ReadAll(ctx, b, "obj")
	require.ErrorIs(t, err, blob.ErrInternal, "a flipped byte is never good data")
	require.ErrorContains(t, err, "checksum mismatch")

	// A range of up to 4 MiB is checked against the MD5 the service sends
	// for the range.
	r, err := b.NewRangeReader(ctx, "obj", 10, 2000, nil)
	require.NoError(t, err)
	_, err = io.ReadAll(r)
	require.ErrorIs(t, err, blob.ErrInternal, "a flipped byte in a range fails too")
	require.NoError(t, r.Close())

	flip.Store(false)
	r, err = b.NewRangeReader(ctx, "obj", 10, 2000, nil)
	require.NoError(t, err)
	got, err = io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, data[10:2010], got)
	require.NoError(t, r.Close())
}

// cutShort yields the first half of body, then fails as a reset would.
type cutShort struct {
	r    *bytes.Reader
	left int
}

func (c *cutShort) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, errors.New("connection reset by the test proxy")
	}
	n, err := c.r.Read(p[:min(len(p), c.left)])
	c.left -= n
	return n, err
}

func TestReadResumesAfterACut(t *testing.T) {
	ctx := context.Background()
	az := emulator.Azurite(t, nil)
	var cuts atomic.Int32
	var proxyOn *atomic.Bool
	proxy, on := faultProxy(t, az.BlobEndpoint, func(body []byte) io.Reader {
		if cuts.Add(1) > 2 {
			proxyOn.Store(false) // cut the first two answers, then let them through
		}
		return &cutShort{r: bytes.NewReader(body), left: len(body) / 2}
	})
	proxyOn = on
	c, err := azure.New(ctx, azure.Options{ServiceURL: proxy.URL + "/" + az.Account, Account: az.Account, SharedKey: az.Key})
	require.NoError(t, err)
	require.NoError(t, c.CreateContainer(ctx, "resume"))
	b, err := c.Bucket("resume")
	require.NoError(t, err)
	data := bytes.Repeat([]byte("abcdefghijklmnop"), 16<<10) // 256 KiB
	require.NoError(t, blob.WriteAll(ctx, b, "obj", data, nil))

	on.Store(true)
	got, err := blob.ReadAll(ctx, b, "obj")
	require.NoError(t, err, "a read cut short resumes")
	require.Equal(t, data, got, "and is whole, checked against its MD5")
	require.GreaterOrEqual(t, cuts.Load(), int32(2))
}
