package conformance

import (
	"crypto/md5"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

var attributeChecks = []check{
	{"content headers round trip", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("<p>hi</p>"), &blob.WriterOptions{
			ContentType:        "text/html; charset=utf-8",
			ContentEncoding:    "identity",
			ContentDisposition: `attachment; filename="page.html"`,
			ContentLanguage:    "en-GB",
			CacheControl:       "public, max-age=60",
		})
		a, err := b.Attributes(t.Context(), "obj")
		require.NoError(t, err)
		require.Equal(t, "text/html; charset=utf-8", a.ContentType)
		require.Equal(t, "identity", a.ContentEncoding)
		require.Equal(t, `attachment; filename="page.html"`, a.ContentDisposition)
		require.Equal(t, "en-GB", a.ContentLanguage)
		require.Equal(t, "public, max-age=60", a.CacheControl)
		require.Equal(t, int64(9), a.Size)
	}},
	{"default content type is set", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte{0, 1, 2}, nil)
		a, err := b.Attributes(t.Context(), "obj")
		require.NoError(t, err)
		require.NotEmpty(t, a.ContentType)
	}},
	{"metadata round trip", func(t *testing.T, s *suite) {
		b := s.open(t)
		md := map[string]string{
			"plain":      "value",
			"with-dash":  "a-b",
			"under_core": "x_y",
			"Mixed-Case": "keys come back lower-cased",
			"unicode":    "héllo wörld — 日本語 ✓",
			"spaces":     "  padded  inside  ",
			"empty":      "",
			"equals":     "a=b; c=d, e",
		}
		put(t, b, "obj", []byte("x"), &blob.WriterOptions{Metadata: md})
		a, err := b.Attributes(t.Context(), "obj")
		require.NoError(t, err)
		want := map[string]string{}
		for k, v := range md {
			want[lower(k)] = v
		}
		require.Equal(t, want, a.Metadata)
	}},
	{"no metadata is an empty map", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("x"), nil)
		a, err := b.Attributes(t.Context(), "obj")
		require.NoError(t, err)
		require.NotNil(t, a.Metadata)
		require.Empty(t, a.Metadata)
	}},
	{"bad metadata keys are refused", func(t *testing.T, s *suite) {
		b := s.open(t)
		for _, md := range []map[string]string{
			{"": "v"}, {"1starts-with-digit": "v"}, {"has space": "v"}, {"dot.ted": "v"},
			{"ünï": "v"}, {"Same": "1", "same": "2"},
		} {
			_, err := b.NewWriter(t.Context(), "obj", &blob.WriterOptions{Metadata: md})
			requireKind(t, err, blob.ErrInvalidArgument, "metadata %v", md)
		}
		_, err := b.NewWriter(t.Context(), "obj", &blob.WriterOptions{Metadata: map[string]string{"k": "bad\xffutf8"}})
		requireKind(t, err, blob.ErrInvalidArgument, "a value that is not UTF-8")
		require.False(t, exists(t, b, "obj"))
	}},
	{"missing key is not found", func(t *testing.T, s *suite) {
		b := s.open(t)
		_, err := b.Attributes(t.Context(), "missing")
		requireKind(t, err, blob.ErrNotFound)
	}},
	{"ETag is the same everywhere", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("tagged"), nil)
		a, err := b.Attributes(t.Context(), "obj")
		require.NoError(t, err)
		require.NotEmpty(t, a.ETag)
		r, err := b.NewReader(t.Context(), "obj", nil)
		require.NoError(t, err)
		require.Equal(t, a.ETag, r.Attrs().ETag, "Reader.Attrs")
		require.NoError(t, r.Close())
		page, err := b.List(t.Context(), nil)
		require.NoError(t, err)
		require.Len(t, page.Objects, 1)
		require.Equal(t, a.ETag, page.Objects[0].ETag, "List")
		require.Equal(t, a.Size, page.Objects[0].Size, "List size")
	}},
	{"ETag changes with the content", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("one"), nil)
		a1, err := b.Attributes(t.Context(), "obj")
		require.NoError(t, err)
		put(t, b, "obj", []byte("two"), nil)
		a2, err := b.Attributes(t.Context(), "obj")
		require.NoError(t, err)
		require.NotEqual(t, a1.ETag, a2.ETag)
	}},
	{"MD5 when known is the content's", func(t *testing.T, s *suite) {
		b := s.open(t)
		body := payload(20, 4096)
		put(t, b, "obj", body, nil)
		a, err := b.Attributes(t.Context(), "obj")
		require.NoError(t, err)
		if a.MD5 == nil {
			t.Log("backend reports no MD5 for this object (allowed: nil where unknown)")
			return
		}
		sum := md5.Sum(body)
		require.Equal(t, sum[:], a.MD5)
	}},
	{"tags round trip", func(t *testing.T, s *suite) {
		b := s.open(t)
		tags := map[string]string{"team": "data", "path": "a/b:c=d", "empty": ""}
		err := blob.WriteAll(t.Context(), b, "tagged", []byte("x"), &blob.WriterOptions{Tags: tags})
		if why, lacks := s.lacks(Tags); lacks {
			requireKind(t, err, blob.ErrNotImplemented, "a backend that lacks tags must say so")
			_, err = b.Attributes(t.Context(), "tagged")
			requireKind(t, err, blob.ErrNotFound, "nothing written")
			t.Logf("lacks %s (declared: %s): returns ErrNotImplemented as it should", Tags, why)
			return
		}
		require.NoError(t, err)
		a, err := b.Attributes(t.Context(), "tagged")
		require.NoError(t, err)
		require.Equal(t, tags, a.Tags)
		require.NoError(t, b.Copy(t.Context(), "copied", "tagged", nil))
		a, err = b.Attributes(t.Context(), "copied")
		require.NoError(t, err)
		require.Equal(t, tags, a.Tags, "a copy keeps the tags")
		put(t, b, "plain", []byte("x"), nil)
		a, err = b.Attributes(t.Context(), "plain")
		require.NoError(t, err)
		require.Nil(t, a.Tags, "no tags is nil")
		err = blob.WriteAll(t.Context(), b, "bad", []byte("x"), &blob.WriterOptions{Tags: map[string]string{"k": "semi;colon"}})
		requireKind(t, err, blob.ErrInvalidArgument, "a tag outside the portable characters")
	}},
	{"modification time is now", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("x"), nil)
		a, err := b.Attributes(t.Context(), "obj")
		require.NoError(t, err)
		recent(t, a.ModTime, "ModTime")
	}},
}

func lower(s string) string {
	out := []byte(s)
	for i, c := range out {
		if 'A' <= c && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return string(out)
}
