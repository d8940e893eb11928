package conformance

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// etag returns key's current ETag.
func etag(t *testing.T, b blob.Bucket, key string) string {
	t.Helper()
	a, err := b.Attributes(t.Context(), key)
	require.NoError(t, err)
	return a.ETag
}

// multipart returns options and a body big enough that backends with
// multipart or staged uploads send it in several parts (5 MiB is S3's
// smallest part).
func multipart() (*blob.WriterOptions, []byte) {
	return &blob.WriterOptions{PartSize: 5 << 20, Concurrency: 2}, payload(40, 11<<20)
}

var conditionalChecks = []check{
	{"IfNotExist creates", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("new"), &blob.WriterOptions{IfNotExist: true})
		require.Equal(t, "new", string(get(t, b, "obj")))
	}},
	{"IfNotExist on an existing key fails", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("original"), nil)
		err := blob.WriteAll(t.Context(), b, "obj", []byte("intruder"), &blob.WriterOptions{IfNotExist: true})
		requireKind(t, err, blob.ErrPreconditionFailed)
		require.Equal(t, "original", string(get(t, b, "obj")))
	}},
	{"IfMatch with the current ETag replaces", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("v1"), nil)
		put(t, b, "obj", []byte("v2"), &blob.WriterOptions{IfMatch: etag(t, b, "obj")})
		require.Equal(t, "v2", string(get(t, b, "obj")))
	}},
	{"IfMatch with an old ETag fails", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("v1"), nil)
		old := etag(t, b, "obj")
		put(t, b, "obj", []byte("v2 by someone else"), nil)
		err := blob.WriteAll(t.Context(), b, "obj", []byte("v3"), &blob.WriterOptions{IfMatch: old})
		requireKind(t, err, blob.ErrPreconditionFailed)
		require.Equal(t, "v2 by someone else", string(get(t, b, "obj")))
	}},
	{"IfMatch on a missing key fails", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "other", []byte("x"), nil)
		err := blob.WriteAll(t.Context(), b, "obj", []byte("v"), &blob.WriterOptions{IfMatch: etag(t, b, "other")})
		requireKind(t, err, blob.ErrPreconditionFailed)
		require.False(t, exists(t, b, "obj"))
	}},
	{"IfNotExist with IfMatch is invalid", func(t *testing.T, s *suite) {
		b := s.open(t)
		_, err := b.NewWriter(t.Context(), "obj", &blob.WriterOptions{IfNotExist: true, IfMatch: `"x"`})
		requireKind(t, err, blob.ErrInvalidArgument)
	}},
	{"multipart IfNotExist is kept", func(t *testing.T, s *suite) {
		b := s.open(t)
		opts, body := multipart()
		put(t, b, "obj", []byte("original"), nil)
		opts.IfNotExist = true
		err := blob.WriteAll(t.Context(), b, "obj", body, opts)
		requireKind(t, err, blob.ErrPreconditionFailed)
		require.Equal(t, "original", string(get(t, b, "obj")))
		put(t, b, "fresh", body, opts)
		require.True(t, bytes.Equal(body, get(t, b, "fresh")))
	}},
	{"multipart IfMatch is kept", func(t *testing.T, s *suite) {
		b := s.open(t)
		opts, body := multipart()
		put(t, b, "obj", []byte("v1"), nil)
		old := etag(t, b, "obj")
		put(t, b, "obj", []byte("v2"), nil)
		opts.IfMatch = old
		err := blob.WriteAll(t.Context(), b, "obj", body, opts)
		requireKind(t, err, blob.ErrPreconditionFailed)
		require.Equal(t, "v2", string(get(t, b, "obj")))
		opts.IfMatch = etag(t, b, "obj")
		put(t, b, "obj", body, opts)
		require.True(t, bytes.Equal(body, get(t, b, "obj")))
	}},
}
