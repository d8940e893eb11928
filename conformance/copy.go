package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

var copyChecks = []check{
	{"content and attributes", func(t *testing.T, s *suite) {
		b := s.open(t)
		body := payload(50, 5000)
		put(t, b, "src", body, &blob.WriterOptions{
			ContentType: "application/x-test", CacheControl: "no-cache",
			Metadata: map[string]string{"owner": "ünit"},
		})
		require.NoError(t, b.Copy(t.Context(), "dst", "src", nil))
		require.Equal(t, body, get(t, b, "dst"))
		a, err := b.Attributes(t.Context(), "dst")
		require.NoError(t, err)
		require.Equal(t, "application/x-test", a.ContentType)
		require.Equal(t, "no-cache", a.CacheControl)
		require.Equal(t, map[string]string{"owner": "ünit"}, a.Metadata)
		require.Equal(t, body, get(t, b, "src"), "the source is untouched")
	}},
	{"replacing metadata and type", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "src", []byte("x"), &blob.WriterOptions{ContentType: "text/plain", Metadata: map[string]string{"old": "1"}})
		require.NoError(t, b.Copy(t.Context(), "dst", "src", &blob.CopyOptions{
			Metadata: map[string]string{"New": "2"}, ContentType: "application/json",
		}))
		a, err := b.Attributes(t.Context(), "dst")
		require.NoError(t, err)
		require.Equal(t, map[string]string{"new": "2"}, a.Metadata)
		require.Equal(t, "application/json", a.ContentType)
		src, err := b.Attributes(t.Context(), "src")
		require.NoError(t, err)
		require.Equal(t, map[string]string{"old": "1"}, src.Metadata)
	}},
	{"overwrites the destination", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "src", []byte("new"), nil)
		put(t, b, "dst", []byte("old, longer"), nil)
		require.NoError(t, b.Copy(t.Context(), "dst", "src", nil))
		require.Equal(t, "new", string(get(t, b, "dst")))
	}},
	{"missing source is not found", func(t *testing.T, s *suite) {
		b := s.open(t)
		requireKind(t, b.Copy(t.Context(), "dst", "missing", nil), blob.ErrNotFound)
		require.False(t, exists(t, b, "dst"))
	}},
	{"IfNotExist on an existing destination fails", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "src", []byte("src"), nil)
		put(t, b, "dst", []byte("dst"), nil)
		requireKind(t, b.Copy(t.Context(), "dst", "src", &blob.CopyOptions{IfNotExist: true}), blob.ErrPreconditionFailed)
		require.Equal(t, "dst", string(get(t, b, "dst")))
		require.NoError(t, b.Copy(t.Context(), "new", "src", &blob.CopyOptions{IfNotExist: true}))
		require.Equal(t, "src", string(get(t, b, "new")))
	}},
	{"keys with special characters", func(t *testing.T, s *suite) {
		b := s.open(t)
		src, dst := "dir/sp ace+é%2F?.txt", "other//dst&=~"
		if why := s.refused(t, b, dst); why != "" {
			// The backend refuses the empty segment: the copy must too.
			requireKind(t, b.Copy(t.Context(), dst, "absent", nil), blob.ErrInvalidArgument, "copy to %q (%s)", dst, why)
			dst = "other/dst&=~"
		}
		put(t, b, src, []byte("special"), nil)
		require.NoError(t, b.Copy(t.Context(), dst, src, nil))
		require.Equal(t, "special", string(get(t, b, dst)))
	}},
}
