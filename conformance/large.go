package conformance

import (
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

var largeChecks = []check{
	{"write and read back", func(t *testing.T, s *suite) {
		b := s.open(t)
		n := s.largeSize()
		require.NoError(t, blob.Upload(t.Context(), b, "large", newStream(70, n), nil))
		want, _ := digest(t, newStream(70, n))
		r, err := b.NewRangeReader(t.Context(), "large", 0, -1, nil)
		require.NoError(t, err)
		defer r.Close()
		require.Equal(t, n, r.Attrs().Size)
		got, size := digest(t, r)
		require.Equal(t, n, size)
		require.Equal(t, want, got, "content differs")
	}},
	{"unknown length through a pipe", func(t *testing.T, s *suite) {
		b := s.open(t)
		n := s.largeSize()
		pr, pw := io.Pipe()
		go func() {
			// Odd-sized writes, so part boundaries never line up with them.
			_, err := io.CopyBuffer(pw, onlyReader{newStream(71, n)}, make([]byte, 777_777))
			pw.CloseWithError(err)
		}()
		require.NoError(t, blob.Upload(t.Context(), b, "piped", pr, &blob.WriterOptions{PartSize: 5 << 20, Concurrency: 3}))
		a, err := b.Attributes(t.Context(), "piped")
		require.NoError(t, err)
		require.Equal(t, n, a.Size)
		want, _ := digest(t, newStream(71, n))
		r, err := b.NewRangeReader(t.Context(), "piped", 0, -1, nil)
		require.NoError(t, err)
		defer r.Close()
		got, _ := digest(t, r)
		require.Equal(t, want, got)
	}},
	{"range deep inside", func(t *testing.T, s *suite) {
		b := s.open(t)
		n := s.largeSize()
		require.NoError(t, blob.Upload(t.Context(), b, "large", newStream(72, n), nil))
		off, length := n/2+12345, int64(3<<20)
		r, err := b.NewRangeReader(t.Context(), "large", off, length, nil)
		require.NoError(t, err)
		defer r.Close()
		got, size := digest(t, r)
		require.Equal(t, length, size)
		src := newStream(72, n)
		_, err = io.CopyN(io.Discard, src, off)
		require.NoError(t, err)
		want, _ := digest(t, io.LimitReader(src, length))
		require.Equal(t, want, got)
	}},
	{"failing source leaves nothing", func(t *testing.T, s *suite) {
		b := s.open(t)
		n := s.largeSize()
		boom := errors.New("source broke")
		src := io.MultiReader(io.LimitReader(newStream(73, n), n-1000), errReader{boom})
		err := blob.Upload(t.Context(), b, "broken", src, &blob.WriterOptions{PartSize: 5 << 20})
		require.ErrorIs(t, err, boom)
		require.False(t, exists(t, b, "broken"))
		keys, _ := listAll(t, b, blob.ListOptions{})
		require.Empty(t, keys)
	}},
	{"canceled large write leaves nothing", func(t *testing.T, s *suite) {
		b := s.open(t)
		ctx, cancel := contextWithCancel(t)
		w, err := b.NewWriter(ctx, "big", &blob.WriterOptions{PartSize: 5 << 20})
		require.NoError(t, err)
		_, err = io.CopyN(w, newStream(74, s.largeSize()), 12<<20)
		require.NoError(t, err)
		cancel()
		requireKind(t, w.Close(), blob.ErrCanceled)
		require.False(t, exists(t, b, "big"))
	}},
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
