package conformance

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// readRange reads length bytes of key from offset, checking the reader's
// Attrs against the whole object.
func readRange(t *testing.T, b blob.Bucket, key string, offset, length int64, whole []byte) []byte {
	t.Helper()
	r, err := b.NewRangeReader(t.Context(), key, offset, length, nil)
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, int64(len(whole)), r.Attrs().Size, "Attrs().Size is the whole object's size")
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	return data
}

var readChecks = []check{
	{"whole object", func(t *testing.T, s *suite) {
		b := s.open(t)
		body := payload(1, 1000)
		put(t, b, "obj", body, nil)
		require.Equal(t, body, get(t, b, "obj"))
	}},
	{"range in the middle", func(t *testing.T, s *suite) {
		b := s.open(t)
		body := payload(2, 1000)
		put(t, b, "obj", body, nil)
		require.Equal(t, body[100:350], readRange(t, b, "obj", 100, 250, body))
	}},
	{"range to the end", func(t *testing.T, s *suite) {
		b := s.open(t)
		body := payload(3, 1000)
		put(t, b, "obj", body, nil)
		require.Equal(t, body[900:], readRange(t, b, "obj", 900, -1, body))
	}},
	{"range past the end is cut short", func(t *testing.T, s *suite) {
		b := s.open(t)
		body := payload(4, 1000)
		put(t, b, "obj", body, nil)
		require.Equal(t, body[990:], readRange(t, b, "obj", 990, 500, body))
	}},
	{"offset at the end reads nothing", func(t *testing.T, s *suite) {
		b := s.open(t)
		body := payload(5, 100)
		put(t, b, "obj", body, nil)
		require.Empty(t, readRange(t, b, "obj", 100, -1, body))
	}},
	{"offset past the end reads nothing", func(t *testing.T, s *suite) {
		b := s.open(t)
		body := payload(6, 100)
		put(t, b, "obj", body, nil)
		require.Empty(t, readRange(t, b, "obj", 5000, 10, body))
	}},
	{"zero length reads nothing", func(t *testing.T, s *suite) {
		b := s.open(t)
		body := payload(7, 100)
		put(t, b, "obj", body, nil)
		require.Empty(t, readRange(t, b, "obj", 10, 0, body))
	}},
	{"empty object", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "empty", nil, nil)
		require.Empty(t, get(t, b, "empty"))
		require.Empty(t, readRange(t, b, "empty", 0, -1, nil))
	}},
	{"negative offset is invalid", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("x"), nil)
		_, err := b.NewRangeReader(t.Context(), "obj", -1, 1, nil)
		requireKind(t, err, blob.ErrInvalidArgument)
	}},
	{"missing key is not found", func(t *testing.T, s *suite) {
		b := s.open(t)
		_, err := b.NewRangeReader(t.Context(), "missing", 0, -1, nil)
		requireKind(t, err, blob.ErrNotFound)
	}},
	{"reader attrs", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("hello"), &blob.WriterOptions{ContentType: "text/plain"})
		r, err := b.NewRangeReader(t.Context(), "obj", 1, 2, nil)
		require.NoError(t, err)
		defer r.Close()
		a := r.Attrs()
		require.Equal(t, int64(5), a.Size)
		require.Equal(t, "text/plain", a.ContentType)
		require.NotEmpty(t, a.ETag)
		recent(t, a.ModTime, "Attrs().ModTime")
	}},
	{"read pinned to the current ETag", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("v1"), nil)
		a, err := b.Attributes(t.Context(), "obj")
		require.NoError(t, err)
		r, err := b.NewRangeReader(t.Context(), "obj", 0, -1, &blob.ReaderOptions{IfMatch: a.ETag})
		require.NoError(t, err)
		data, err := io.ReadAll(r)
		require.NoError(t, err)
		require.NoError(t, r.Close())
		require.Equal(t, "v1", string(data))
	}},
	{"read pinned to an old ETag fails", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("v1"), nil)
		a, err := b.Attributes(t.Context(), "obj")
		require.NoError(t, err)
		put(t, b, "obj", []byte("version two"), nil)
		_, err = b.NewRangeReader(t.Context(), "obj", 0, -1, &blob.ReaderOptions{IfMatch: a.ETag})
		requireKind(t, err, blob.ErrPreconditionFailed)
	}},
}
