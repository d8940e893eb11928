package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

var concurrencyChecks = []check{
	{"IfNotExist race has one winner", func(t *testing.T, s *suite) {
		b := s.open(t)
		const writers = 8
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				errs[i] = blob.WriteAll(t.Context(), b, "contested", fmt.Appendf(nil, "writer %d", i), &blob.WriterOptions{IfNotExist: true})
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "writers %d and %d both won", winner, i)
				winner = i
				continue
			}
			requireKind(t, err, blob.ErrPreconditionFailed, "writer %d", i)
		}
		require.NotEqual(t, -1, winner, "nobody won")
		require.Equal(t, fmt.Sprintf("writer %d", winner), string(get(t, b, "contested")))
	}},
	{"IfMatch race has one winner", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "counter", []byte("0"), nil)
		base := etag(t, b, "counter")
		const writers = 8
		var mu sync.Mutex
		wins := 0
		var g errgroup
		for i := range writers {
			g.Go(func() error {
				err := blob.WriteAll(t.Context(), b, "counter", fmt.Appendf(nil, "%d", i+1), &blob.WriterOptions{IfMatch: base})
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
					return nil
				}
				if !errors.Is(err, blob.ErrPreconditionFailed) {
					return err
				}
				return nil
			})
		}
		require.NoError(t, g.Wait())
		require.Equal(t, 1, wins)
	}},
	{"parallel writers of different keys", func(t *testing.T, s *suite) {
		b := s.open(t)
		var g errgroup
		for i := range 16 {
			g.Go(func() error { return blob.WriteAll(t.Context(), b, keyName(i), payload(uint64(i), 10_000+i), nil) })
		}
		require.NoError(t, g.Wait())
		for i := range 16 {
			require.Equal(t, payload(uint64(i), 10_000+i), get(t, b, keyName(i)))
		}
	}},
	{"parallel readers", func(t *testing.T, s *suite) {
		b := s.open(t)
		body := payload(80, 200_000)
		put(t, b, "shared", body, nil)
		var g errgroup
		for i := range 16 {
			g.Go(func() error {
				off := int64(i * 10_000)
				r, err := b.NewRangeReader(t.Context(), "shared", off, 10_000, nil)
				if err != nil {
					return err
				}
				defer r.Close()
				var buf bytes.Buffer
				if _, err := buf.ReadFrom(r); err != nil {
					return err
				}
				if !bytes.Equal(buf.Bytes(), body[off:off+10_000]) {
					return fmt.Errorf("reader %d got the wrong bytes", i)
				}
				return nil
			})
		}
		require.NoError(t, g.Wait())
	}},
	{"readers see whole versions", func(t *testing.T, s *suite) {
		b := s.open(t)
		versions := [][]byte{bytes.Repeat([]byte("a"), 100_000), bytes.Repeat([]byte("b"), 50_000), bytes.Repeat([]byte("c"), 150_000)}
		put(t, b, "obj", versions[0], nil)
		var g errgroup
		g.Go(func() error {
			for i := range 9 {
				if err := blob.WriteAll(t.Context(), b, "obj", versions[i%3], nil); err != nil {
					return err
				}
			}
			return nil
		})
		for range 4 {
			g.Go(func() error {
				for range 10 {
					data, err := blob.ReadAll(t.Context(), b, "obj")
					if err != nil {
						return err
					}
					ok := false
					for _, v := range versions {
						ok = ok || bytes.Equal(data, v)
					}
					if !ok {
						return fmt.Errorf("read %d bytes that are no version written", len(data))
					}
				}
				return nil
			})
		}
		require.NoError(t, g.Wait())
	}},
}
