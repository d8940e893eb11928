package conformance

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// errHook is what the hooks of the "hooks" checks fail with.
var errHook = errors.New("refused by the hook")

// counter makes a Before hook that counts its calls and fails with
// errHook when fail is set.
func counter(calls *int, fail bool) func(func(any) bool) error {
	return func(as func(any) bool) error {
		*calls++
		if as == nil {
			return errors.New("the hook got a nil asFunc")
		}
		if fail {
			return errHook
		}
		return nil
	}
}

var hookChecks = []check{
	{"BeforeWrite is called once and can stop the write", func(t *testing.T, s *suite) {
		b := s.open(t)
		var n int
		put(t, b, "small", []byte("x"), &blob.WriterOptions{BeforeWrite: counter(&n, false)})
		require.Equal(t, 1, n)
		n = 0
		put(t, b, "large", payload(3, 11<<20), &blob.WriterOptions{PartSize: 5 << 20, BeforeWrite: counter(&n, false)})
		require.Equal(t, 1, n, "once for a multipart write too")
		n = 0
		err := blob.WriteAll(t.Context(), b, "refused", []byte("x"), &blob.WriterOptions{BeforeWrite: counter(&n, true)})
		require.ErrorIs(t, err, errHook, "the hook's error, reachable")
		require.Equal(t, 1, n)
		require.False(t, exists(t, b, "refused"), "nothing written")
	}},
	{"BeforeRead, BeforeList and BeforeCopy are called once", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("hello"), nil)
		var n int
		r, err := b.NewReader(t.Context(), "obj", &blob.ReaderOptions{BeforeRead: counter(&n, false)})
		require.NoError(t, err)
		require.NoError(t, r.Close())
		require.Equal(t, 1, n)
		_, err = b.NewReader(t.Context(), "obj", &blob.ReaderOptions{BeforeRead: counter(&n, true)})
		require.ErrorIs(t, err, errHook)

		n = 0
		_, err = b.List(t.Context(), &blob.ListOptions{BeforeList: counter(&n, false)})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = b.List(t.Context(), &blob.ListOptions{BeforeList: counter(&n, true)})
		require.ErrorIs(t, err, errHook)

		n = 0
		require.NoError(t, b.Copy(t.Context(), "copy", "obj", &blob.CopyOptions{BeforeCopy: counter(&n, false)}))
		require.Equal(t, 1, n)
		err = b.Copy(t.Context(), "refused", "obj", &blob.CopyOptions{BeforeCopy: counter(&n, true)})
		require.ErrorIs(t, err, errHook)
		require.False(t, exists(t, b, "refused"))
	}},
	{"BeforeSign is called once", func(t *testing.T, s *suite) {
		if why, ok := s.lacks(SignedURL); ok {
			t.Logf("no signed URLs: %s", why)
			return
		}
		b := s.open(t)
		var n int
		_, err := b.SignedURL(t.Context(), "obj", &blob.SignedURLOptions{BeforeSign: counter(&n, false)})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = b.SignedURL(t.Context(), "obj", &blob.SignedURLOptions{BeforeSign: counter(&n, true)})
		require.ErrorIs(t, err, errHook)
	}},
}
