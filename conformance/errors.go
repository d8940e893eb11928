package conformance

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

var errorChecks = []check{
	{"errors name the operation and key", func(t *testing.T, s *suite) {
		b := s.open(t)
		_, err := b.Attributes(t.Context(), "missing/key")
		requireKind(t, err, blob.ErrNotFound)
		var be *blob.Error
		require.ErrorAs(t, err, &be)
		require.Equal(t, blob.OpAttributes, be.Op)
		require.Equal(t, "missing/key", be.Key)
		require.NotEmpty(t, be.Provider)
		msg := err.Error()
		require.Contains(t, msg, `attributes `)
		require.Contains(t, msg, `"missing/key": not found`)
		requireOneLine(t, msg)
		if be.RequestID != "" {
			require.Equal(t, 1, strings.Count(msg, be.RequestID), "the request ID once: %s", msg)
		}
		if be.Status != 0 {
			require.Equal(t, 1, strings.Count(msg, "status "+strconv.Itoa(be.Status)), "the status once: %s", msg)
		}
		if be.Code != "" {
			require.Equal(t, 1, strings.Count(msg, be.Code), "the code once: %s", msg)
		}
	}},
	{"errors of a read say read", func(t *testing.T, s *suite) {
		b := s.open(t)
		_, err := b.NewRangeReader(t.Context(), "missing", 0, -1, nil)
		requireKind(t, err, blob.ErrNotFound)
		var be *blob.Error
		require.ErrorAs(t, err, &be)
		require.Equal(t, blob.OpRead, be.Op)
		require.True(t, strings.HasPrefix(err.Error(), "blob: read "), err.Error())
		requireOneLine(t, err.Error())
	}},
	{"a copy from a missing source names the source", func(t *testing.T, s *suite) {
		b := s.open(t)
		err := b.Copy(t.Context(), "copy-dst", "copy-src-missing", nil)
		requireKind(t, err, blob.ErrNotFound)
		var be *blob.Error
		require.ErrorAs(t, err, &be)
		require.Equal(t, "copy-src-missing", be.Key)
		require.Contains(t, err.Error(), "copy-src-missing")
		require.NotContains(t, err.Error(), "copy-dst")
	}},
	{"a long key is cut in messages", func(t *testing.T, s *suite) {
		b := s.open(t)
		key := strings.Repeat("k", min(s.maxKeyLen(t, b), 400))
		_, err := b.Attributes(t.Context(), key)
		requireKind(t, err, blob.ErrNotFound)
		require.NotContains(t, err.Error(), key, "the whole key is not echoed")
		require.Contains(t, err.Error(), fmt.Sprintf("(%d bytes)", len(key)))
	}},
	{"canceled context", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("x"), nil)
		ctx := canceled(t)
		_, err := b.NewRangeReader(ctx, "obj", 0, -1, nil)
		requireKind(t, err, blob.ErrCanceled, "read")
		_, err = b.Attributes(ctx, "obj")
		requireKind(t, err, blob.ErrCanceled, "Attributes")
		_, err = b.List(ctx, nil)
		requireKind(t, err, blob.ErrCanceled, "List")
		requireKind(t, b.Delete(ctx, "obj"), blob.ErrCanceled, "Delete")
		requireKind(t, b.Copy(ctx, "dst", "obj", nil), blob.ErrCanceled, "Copy")
		_, err = b.NewWriter(ctx, "new", nil)
		requireKind(t, err, blob.ErrCanceled, "write")
		require.True(t, exists(t, b, "obj"), "nothing happened")
	}},
	{"expired deadline is canceled", func(t *testing.T, s *suite) {
		b := s.open(t)
		ctx, cancel := contextWithDeadline(t, time.Now().Add(-time.Second))
		defer cancel()
		_, err := b.Attributes(ctx, "obj")
		requireKind(t, err, blob.ErrCanceled)
	}},
	{"canceled mid-read", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", payload(60, 3<<20), nil)
		ctx, cancel := contextWithCancel(t)
		r, err := b.NewRangeReader(ctx, "obj", 0, -1, nil)
		require.NoError(t, err)
		defer r.Close()
		buf := make([]byte, 1024)
		_, err = r.Read(buf)
		require.NoError(t, err)
		cancel()
		// The very next read fails, on every backend: those that hold the
		// object in memory or a local file too.
		_, err = r.Read(buf)
		requireKind(t, err, blob.ErrCanceled)
	}},
	{"canceled mid-copy", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", payload(61, 3<<20), nil)
		ctx, cancel := contextWithCancel(t)
		r, err := b.NewReader(ctx, "obj", nil)
		require.NoError(t, err)
		defer r.Close()
		w := &cancelAfter{after: 64 << 10, cancel: cancel}
		n, err := io.Copy(w, r)
		requireKind(t, err, blob.ErrCanceled)
		require.Less(t, n, int64(3<<20), "the copy stopped")
	}},
	{"bad content headers are refused before any request", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "src", []byte("x"), nil)
		bad := []string{"text/plain\r\nX-Injected: 1", "text/plain\nx", "a\x00b", "a\x7fb", "text/plainé", strings.Repeat("a", blob.MaxHeaderLen+1)}
		for _, v := range bad {
			for _, o := range []*blob.WriterOptions{{ContentType: v}, {ContentEncoding: v}, {ContentDisposition: v}, {ContentLanguage: v}, {CacheControl: v}} {
				err := blob.WriteAll(t.Context(), b, "bad-header", []byte("x"), o)
				requireKind(t, err, blob.ErrInvalidArgument, fmt.Sprintf("%q", v))
			}
			requireKind(t, b.Copy(t.Context(), "bad-header", "src", &blob.CopyOptions{ContentType: v}), blob.ErrInvalidArgument)
			_, err := b.SignedURL(t.Context(), "bad-header", &blob.SignedURLOptions{Method: "PUT", ContentType: v})
			requireKind(t, err, blob.ErrInvalidArgument)
		}
		require.False(t, exists(t, b, "bad-header"), "nothing written")
		put(t, b, "good-header", []byte("x"), &blob.WriterOptions{ContentType: "text/plain; charset=utf-8", ContentDisposition: "attachment; filename*=UTF-8''na%C3%AFve.txt"})
	}},
	{"closed bucket", func(t *testing.T, s *suite) {
		b := s.h.Open(t)
		require.NoError(t, b.Close())
		_, err := b.Attributes(t.Context(), "obj")
		requireKind(t, err, blob.ErrInvalidArgument)
		require.Contains(t, err.Error(), "closed")
		require.Error(t, b.Close(), "second Close")
	}},
	{"error messages hold no credentials", func(t *testing.T, s *suite) {
		b := s.open(t)
		_, err := b.NewRangeReader(t.Context(), "missing", 0, -1, nil)
		requireKind(t, err, blob.ErrNotFound)
		for _, word := range []string{"Signature=", "sig=", "Authorization:", "X-Amz-Credential", "AccountKey="} {
			require.NotContains(t, err.Error(), word)
		}
	}},
}

// requireOneLine fails when msg spans more than one line.
func requireOneLine(t *testing.T, msg string) {
	t.Helper()
	require.NotContains(t, msg, "\n", "an error is one line")
}

// cancelAfter is a writer that cancels a context once it has taken after
// bytes, and takes everything.
type cancelAfter struct {
	n, after int
	cancel   func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.n += len(p)
	if c.n >= c.after {
		c.cancel()
	}
	return len(p), nil
}
