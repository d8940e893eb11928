package conformance

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

var deleteChecks = []check{
	{"removes the object", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("x"), nil)
		require.NoError(t, b.Delete(t.Context(), "obj"))
		require.False(t, exists(t, b, "obj"))
		_, err := b.NewReader(t.Context(), "obj", nil)
		requireKind(t, err, blob.ErrNotFound)
	}},
	{"absent key is not an error", func(t *testing.T, s *suite) {
		b := s.open(t)
		require.NoError(t, b.Delete(t.Context(), "never-was"))
	}},
	{"leaves the neighbours", func(t *testing.T, s *suite) {
		b := s.open(t)
		have := s.fillTree(t, b)
		require.NoError(t, b.Delete(t.Context(), "a"))
		require.NoError(t, b.Delete(t.Context(), "a/b/1"))
		keys, _ := listAll(t, b, blob.ListOptions{})
		var want []string
		for _, k := range have.keys(sorted(tree)) {
			if k != "a" && k != "a/b/1" {
				want = append(want, k)
			}
		}
		require.Equal(t, want, keys)
	}},
	{"batch of keys", func(t *testing.T, s *suite) {
		b := s.open(t)
		var keys []string
		for i := range 30 {
			keys = append(keys, fmt.Sprintf("batch/%02d", i))
		}
		writeMany(t, b, keys)
		put(t, b, "keep", nil, nil)
		bd, ok := b.(blob.BatchDeleter)
		if !ok {
			t.Log("bucket has no BatchDeleter; DeletePrefix falls back to Delete")
			n, err := blob.DeletePrefix(t.Context(), b, "batch/")
			require.NoError(t, err)
			require.Equal(t, 30, n)
		} else {
			require.NoError(t, bd.DeleteKeys(t.Context(), append(keys, "batch/absent")))
		}
		left, _ := listAll(t, b, blob.ListOptions{})
		require.Equal(t, []string{"keep"}, left)
	}},
	{"DeletePrefix", func(t *testing.T, s *suite) {
		b := s.open(t)
		have := s.fillTree(t, b)
		n, err := blob.DeletePrefix(t.Context(), b, "a/")
		require.NoError(t, err)
		require.Equal(t, len(have.keys([]string{"a/1", "a/2", "a/b/1", "a/b/2", "a/c/1"})), n)
		keys, _ := listAll(t, b, blob.ListOptions{Prefix: "a"})
		require.Equal(t, have.keys([]string{"a", "ab"}), keys)
	}},
}
