package conformance

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// portableKeys are keys every backend must store and list exactly as given.
var portableKeys = []string{
	"a//b", "../x", "./y", "sp ace", "é", "日本語/キー", "100%", "%41", "+", "a+b=c&d",
	"trailing.", "trailing/", "q?x=1#frag", "tab\tkey", "~tilde", "@at:colon;semi", "back\\slash",
}

var writeChecks = []check{
	{"round trip", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("hello, world"), nil)
		require.Equal(t, "hello, world", string(get(t, b, "obj")))
	}},
	{"overwrite replaces", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("first version, longer"), &blob.WriterOptions{Metadata: map[string]string{"v": "1"}})
		put(t, b, "obj", []byte("second"), nil)
		require.Equal(t, "second", string(get(t, b, "obj")))
		a, err := b.Attributes(t.Context(), "obj")
		require.NoError(t, err)
		require.Equal(t, int64(6), a.Size)
		require.Empty(t, a.Metadata, "an overwrite does not keep the old metadata")
	}},
	{"many small writes", func(t *testing.T, s *suite) {
		b := s.open(t)
		w, err := b.NewWriter(t.Context(), "obj", nil)
		require.NoError(t, err)
		var want strings.Builder
		for i := range 1000 {
			fmt.Fprintf(&want, "%d,", i)
			_, err := fmt.Fprintf(w, "%d,", i)
			require.NoError(t, err)
		}
		require.NoError(t, w.Close())
		require.Equal(t, want.String(), string(get(t, b, "obj")))
	}},
	{"nothing visible before Close", func(t *testing.T, s *suite) {
		b := s.open(t)
		w, err := b.NewWriter(t.Context(), "obj", nil)
		require.NoError(t, err)
		_, err = w.Write([]byte("pending"))
		require.NoError(t, err)
		require.False(t, exists(t, b, "obj"))
		keys, _ := listAll(t, b, blob.ListOptions{})
		require.Empty(t, keys)
		require.NoError(t, w.Close())
		require.True(t, exists(t, b, "obj"))
	}},
	{"Abort leaves nothing", func(t *testing.T, s *suite) {
		b := s.open(t)
		w, err := b.NewWriter(t.Context(), "obj", nil)
		require.NoError(t, err)
		_, err = w.Write([]byte("discard me"))
		require.NoError(t, err)
		require.NoError(t, w.Abort(fmt.Errorf("changed my mind")))
		require.False(t, exists(t, b, "obj"))
		require.Error(t, w.Close(), "Close after Abort")
		_, err = w.Write([]byte("more"))
		require.Error(t, err, "Write after Abort")
	}},
	{"Abort keeps the previous version", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("old"), nil)
		w, err := b.NewWriter(t.Context(), "obj", nil)
		require.NoError(t, err)
		_, err = w.Write([]byte("new"))
		require.NoError(t, err)
		require.NoError(t, w.Abort(nil))
		require.Equal(t, "old", string(get(t, b, "obj")))
	}},
	{"canceled context aborts the write", func(t *testing.T, s *suite) {
		b := s.open(t)
		ctx, cancel := contextWithCancel(t)
		w, err := b.NewWriter(ctx, "obj", nil)
		require.NoError(t, err)
		_, err = w.Write([]byte("data"))
		require.NoError(t, err)
		cancel()
		requireKind(t, w.Close(), blob.ErrCanceled)
		require.False(t, exists(t, b, "obj"))
	}},
	{"Write after Close fails", func(t *testing.T, s *suite) {
		b := s.open(t)
		w, err := b.NewWriter(t.Context(), "obj", nil)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		_, err = w.Write([]byte("late"))
		requireKind(t, err, blob.ErrInvalidArgument)
		requireKind(t, w.Close(), blob.ErrInvalidArgument, "second Close")
		require.Empty(t, get(t, b, "obj"))
	}},
	{"keys are stored exactly", func(t *testing.T, s *suite) {
		b := s.open(t)
		var keys []string
		for _, k := range append(slices.Clone(portableKeys), strings.Repeat("k", s.maxKeyLen(t, b)-3)+"/é" /* exactly the longest key */) {
			if why := s.refused(t, b, k); why != "" {
				t.Logf("the backend refuses %q: %s (checked by \"declared refusals\")", k, why)
				continue
			}
			keys = append(keys, k)
		}
		for i, k := range keys {
			put(t, b, k, []byte(fmt.Sprint(i)), nil)
		}
		for i, k := range keys {
			require.Equal(t, fmt.Sprint(i), string(get(t, b, k)), "key %q", k)
		}
		listed, _ := listAll(t, b, blob.ListOptions{})
		require.Equal(t, sorted(keys), listed)
	}},
	{"declared refusals", func(t *testing.T, s *suite) {
		// The valid keys the driver says it refuses (blob.Limits.Refuses)
		// are refused, and nothing of them is stored.
		b := s.open(t)
		n := 0
		for _, k := range portableKeys {
			why := s.refused(t, b, k)
			if why == "" {
				continue
			}
			n++
			err := blob.WriteAll(t.Context(), b, k, []byte("x"), nil)
			requireKind(t, err, blob.ErrInvalidArgument, "writing %q, declared refused: %s", k, why)
		}
		listed, _ := listAll(t, b, blob.ListOptions{})
		require.Empty(t, listed, "a refused key left an object")
		t.Logf("%d of the portable keys are refused by this backend", n)
	}},
	{"an object and a folder of the same name", func(t *testing.T, s *suite) {
		// "x" beside "x/1", written in either order: both stored, or, where
		// the driver says an object cannot also be a folder
		// (blob.Limits.NoObjectFolders), the second refused and not stored.
		b := s.open(t)
		why := s.limits(t, b).NoObjectFolders
		for _, pair := range [][2]string{{"x", "x/1"}, {"y/1", "y"}} {
			put(t, b, pair[0], []byte(pair[0]), nil)
			err := blob.WriteAll(t.Context(), b, pair[1], []byte(pair[1]), nil)
			if why == "" {
				require.NoError(t, err, "writing %q beside %q", pair[1], pair[0])
				continue
			}
			requireKind(t, err, blob.ErrInvalidArgument, "writing %q beside %q (%s)", pair[1], pair[0], why)
		}
		put(t, b, "x/", []byte("marker"), nil) // a folder marker sits beside its object
		listed, _ := listAll(t, b, blob.ListOptions{})
		want := []string{"x", "x/", "x/1", "y", "y/1"}
		if why != "" {
			want = []string{"x", "x/", "y/1"}
		}
		require.Equal(t, want, listed)
	}},
	{"invalid keys are refused", func(t *testing.T, s *suite) {
		b := s.open(t)
		for _, k := range []string{"", strings.Repeat("k", s.maxKeyLen(t, b)+1), "bad\xffutf8", "nul\x00byte"} {
			_, err := b.NewWriter(t.Context(), k, nil)
			requireKind(t, err, blob.ErrInvalidArgument, "NewWriter(%q)", k)
			_, err = b.NewRangeReader(t.Context(), k, 0, -1, nil)
			requireKind(t, err, blob.ErrInvalidArgument, "NewRangeReader(%q)", k)
			_, err = b.Attributes(t.Context(), k)
			requireKind(t, err, blob.ErrInvalidArgument, "Attributes(%q)", k)
			requireKind(t, b.Delete(t.Context(), k), blob.ErrInvalidArgument, "Delete(%q)", k)
		}
	}},
	{"Upload streams a reader of unknown length", func(t *testing.T, s *suite) {
		b := s.open(t)
		body := payload(10, 300_000)
		require.NoError(t, blob.Upload(t.Context(), b, "obj", onlyReader{strings.NewReader(string(body))}, nil))
		require.Equal(t, body, get(t, b, "obj"))
	}},
	{"Download writes the whole object", func(t *testing.T, s *suite) {
		b := s.open(t)
		body := payload(11, 70_000)
		put(t, b, "obj", body, nil)
		var out strings.Builder
		require.NoError(t, blob.Download(t.Context(), b, "obj", &out))
		require.Equal(t, string(body), out.String())
	}},
}
