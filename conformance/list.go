package conformance

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// tree is a set of keys that exercises prefixes and delimiters.
var tree = []string{
	"a", "a/1", "a/2", "a/b/1", "a/b/2", "a/c/1", "ab", "b/x/y/z", "c", "c/", "c//d", "é", "z-1", "z-2",
}

// stored is the part of tree a backend stores (see fillTree).
type stored map[string]bool

// fillTree writes the part of tree b stores: without the keys its driver
// says it refuses (blob.Limits.Refuses) and, where an object cannot also
// be a folder (blob.Limits.NoObjectFolders), without the objects that are
// folders of others in it ("a"; the keys under it stay). The refusals
// themselves are checked by "declared refusals".
func (s *suite) fillTree(t *testing.T, b blob.Bucket) stored {
	t.Helper()
	l := s.limits(t, b)
	have := stored{}
	for _, k := range tree {
		if l.Refuses == nil || l.Refuses(k) == "" {
			have[k] = true
		}
	}
	if l.NoObjectFolders != "" {
		for _, k := range tree {
			if have[k] && folderOfAnother(k, have) {
				delete(have, k)
			}
		}
	}
	for _, k := range tree {
		if have[k] {
			put(t, b, k, []byte(k), nil)
		}
	}
	return have
}

// folderOfAnother reports whether some key of have lies under k as a
// folder ("a/1" under "a"), a folder marker ("a/") aside.
func folderOfAnother(k string, have stored) bool {
	if strings.HasSuffix(k, "/") {
		return false
	}
	for o := range have {
		if strings.HasPrefix(o, k+"/") && o != k+"/" {
			return true
		}
	}
	return false
}

// keys returns the keys of want the backend stores, in want's order.
func (h stored) keys(want []string) []string {
	var out []string
	for _, k := range want {
		if h[k] {
			out = append(out, k)
		}
	}
	return out
}

// prefixes returns the common prefixes of want that some stored key has.
func (h stored) prefixes(want []string) []string {
	var out []string
	for _, p := range want {
		for k := range h {
			if strings.HasPrefix(k, p) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

var listChecks = []check{
	{"empty bucket", func(t *testing.T, s *suite) {
		b := s.open(t)
		page, err := b.List(t.Context(), nil)
		require.NoError(t, err)
		require.Empty(t, page.Objects)
		require.Empty(t, page.Prefixes)
		require.Empty(t, page.NextPageToken)
	}},
	{"every key in byte order", func(t *testing.T, s *suite) {
		b := s.open(t)
		have := s.fillTree(t, b)
		keys, prefixes := listAll(t, b, blob.ListOptions{})
		require.Equal(t, have.keys(sorted(tree)), keys)
		require.Empty(t, prefixes)
	}},
	{"prefix", func(t *testing.T, s *suite) {
		b := s.open(t)
		have := s.fillTree(t, b)
		keys, _ := listAll(t, b, blob.ListOptions{Prefix: "a/"})
		require.Equal(t, have.keys([]string{"a/1", "a/2", "a/b/1", "a/b/2", "a/c/1"}), keys)
		keys, _ = listAll(t, b, blob.ListOptions{Prefix: "a"})
		require.Equal(t, have.keys([]string{"a", "a/1", "a/2", "a/b/1", "a/b/2", "a/c/1", "ab"}), keys)
		keys, _ = listAll(t, b, blob.ListOptions{Prefix: "nothing"})
		require.Empty(t, keys)
	}},
	{"delimiter gives common prefixes", func(t *testing.T, s *suite) {
		b := s.open(t)
		have := s.fillTree(t, b)
		keys, prefixes := listAll(t, b, blob.ListOptions{Delimiter: "/"})
		require.Equal(t, have.keys([]string{"a", "ab", "c", "z-1", "z-2", "é"}), keys)
		require.Equal(t, have.prefixes([]string{"a/", "b/", "c/"}), prefixes)
	}},
	{"prefix and delimiter", func(t *testing.T, s *suite) {
		b := s.open(t)
		have := s.fillTree(t, b)
		keys, prefixes := listAll(t, b, blob.ListOptions{Prefix: "a/", Delimiter: "/"})
		require.Equal(t, have.keys([]string{"a/1", "a/2"}), keys)
		require.Equal(t, have.prefixes([]string{"a/b/", "a/c/"}), prefixes)
		keys, prefixes = listAll(t, b, blob.ListOptions{Prefix: "c/", Delimiter: "/"})
		require.Equal(t, have.keys([]string{"c/"}), keys, "the key equal to the prefix is an object")
		require.Equal(t, have.prefixes([]string{"c//"}), prefixes, "an empty segment is a prefix of its own")
	}},
	{"other delimiter", func(t *testing.T, s *suite) {
		b := s.open(t)
		have := s.fillTree(t, b)
		keys, prefixes := listAll(t, b, blob.ListOptions{Delimiter: "-"})
		require.Equal(t, have.keys([]string{"a", "a/1", "a/2", "a/b/1", "a/b/2", "a/c/1", "ab", "b/x/y/z", "c", "c/", "c//d", "é"}), keys)
		require.Equal(t, have.prefixes([]string{"z-"}), prefixes)
	}},
	{"pages cover everything once", func(t *testing.T, s *suite) {
		b := s.open(t)
		have := s.fillTree(t, b)
		for _, size := range []int{1, 2, 3, 5} {
			keys, _ := listAll(t, b, blob.ListOptions{PageSize: size})
			require.Equal(t, have.keys(sorted(tree)), keys, "page size %d", size)
		}
	}},
	{"pages with a delimiter", func(t *testing.T, s *suite) {
		b := s.open(t)
		have := s.fillTree(t, b)
		for _, size := range []int{1, 2, 4} {
			keys, prefixes := listAll(t, b, blob.ListOptions{Delimiter: "/", PageSize: size})
			require.Equal(t, have.keys([]string{"a", "ab", "c", "z-1", "z-2", "é"}), keys, "page size %d", size)
			require.Equal(t, have.prefixes([]string{"a/", "b/", "c/"}), prefixes, "page size %d", size)
		}
	}},
	{"last page has no token", func(t *testing.T, s *suite) {
		b := s.open(t)
		for i := range 3 {
			put(t, b, keyName(i), nil, nil)
		}
		p1, err := b.List(t.Context(), &blob.ListOptions{PageSize: 2})
		require.NoError(t, err)
		require.Len(t, p1.Objects, 2)
		require.NotEmpty(t, p1.NextPageToken)
		p2, err := b.List(t.Context(), &blob.ListOptions{PageSize: 2, PageToken: p1.NextPageToken})
		require.NoError(t, err)
		require.Len(t, p2.Objects, 1)
		require.Equal(t, keyName(2), p2.Objects[0].Key)
		require.Empty(t, p2.NextPageToken)
	}},
	{"object info", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", payload(30, 1234), nil)
		page, err := b.List(t.Context(), nil)
		require.NoError(t, err)
		require.Len(t, page.Objects, 1)
		o := page.Objects[0]
		require.Equal(t, "obj", o.Key)
		require.Equal(t, int64(1234), o.Size)
		require.NotEmpty(t, o.ETag)
		require.False(t, o.IsPrefix)
		recent(t, o.ModTime, "ObjectInfo.ModTime")
	}},
	{"more than one default page", func(t *testing.T, s *suite) {
		b := s.open(t)
		const n = 1005
		want := make([]string, n)
		for i := range n {
			want[i] = fmt.Sprintf("many/%05d", i)
		}
		writeMany(t, b, want)
		keys, _ := listAll(t, b, blob.ListOptions{Prefix: "many/"})
		require.Equal(t, want, keys)
	}},
	{"bad options are invalid", func(t *testing.T, s *suite) {
		b := s.open(t)
		_, err := b.List(t.Context(), &blob.ListOptions{PageSize: -1})
		requireKind(t, err, blob.ErrInvalidArgument, "negative PageSize")
		_, err = b.List(t.Context(), &blob.ListOptions{Prefix: "bad\xff"})
		requireKind(t, err, blob.ErrInvalidArgument, "prefix not UTF-8")
		_, err = b.List(t.Context(), &blob.ListOptions{Delimiter: "\x00"})
		requireKind(t, err, blob.ErrInvalidArgument, "NUL delimiter")
	}},
}
