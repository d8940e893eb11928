package upload

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

var testLimits = Limits{Service: "Test", MinPart: 1 << 10, MaxPart: 1 << 20, MaxParts: 1000, MaxObject: 4 << 20}

// fakeTarget stores what the engine sends, and fails where told.
type fakeTarget struct {
	mu        sync.Mutex
	put       []byte
	puts      int
	parts     map[int][]byte
	committed []byte
	aborted   bool
	failPart  int   // part number whose upload fails
	failErr   error // the failure
	inFlight  atomic.Int32
	maxFlight atomic.Int32
	delay     time.Duration // each part's send takes this long
}

func (f *fakeTarget) Put(_ context.Context, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	f.put = bytes.Clone(data)
	return nil
}

func (f *fakeTarget) Start(context.Context) (Session, error) {
	f.parts = map[int][]byte{}
	return f, nil
}

func (f *fakeTarget) Part(ctx context.Context, num int, data []byte) (Part, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxFlight.Load()
		if n <= m || f.maxFlight.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(f.delay)
	if num == f.failPart {
		return Part{}, f.failErr
	}
	if err := ctx.Err(); err != nil {
		return Part{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.parts[num] = bytes.Clone(data)
	return Part{ID: fmt.Sprint(num)}, nil
}

func (f *fakeTarget) Complete(_ context.Context, parts []Part) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []byte
	for i, p := range parts {
		if p.Num != i+1 || p.ID != fmt.Sprint(p.Num) {
			return fmt.Errorf("part %d out of order: %+v", i, p)
		}
		all = append(all, f.parts[p.Num]...)
	}
	f.committed = all
	return nil
}

func (f *fakeTarget) Abort(ctx context.Context) error {
	if ctx.Err() != nil {
		return errors.New("cleanup got a canceled context")
	}
	f.aborted = true
	return nil
}

func data(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestSmallObjectIsOnePut(t *testing.T) {
	f := &fakeTarget{}
	w := New(context.Background(), f, Config{PartSize: 1 << 20, Concurrency: 4, Limits: testLimits})
	_, err := w.Write([]byte("hello"))
	require.NoError(t, err)
	require.Less(t, cap(w.buf), 1<<20, "a small write does not take a part-sized buffer")
	require.NoError(t, w.Close())
	require.Equal(t, "hello", string(f.put))
	require.Equal(t, 1, f.puts)
	require.Nil(t, f.parts, "no multipart session")
}

func TestLargeObjectInParts(t *testing.T) {
	for _, via := range []string{"Write", "ReadFrom"} {
		t.Run(via, func(t *testing.T) {
			f := &fakeTarget{}
			w := New(context.Background(), f, Config{PartSize: 4 << 10, Concurrency: 3, Limits: testLimits})
			want := data(100<<10 + 17)
			var err error
			if via == "Write" {
				for p := want; len(p) > 0; p = p[min(len(p), 3000):] {
					_, err = w.Write(p[:min(len(p), 3000)])
					require.NoError(t, err)
				}
			} else {
				n, err := w.ReadFrom(struct{ io.Reader }{bytes.NewReader(want)})
				require.NoError(t, err)
				require.Equal(t, int64(len(want)), n)
			}
			require.NoError(t, w.Close())
			require.True(t, bytes.Equal(want, f.committed))
			require.Equal(t, 26, len(f.parts), "4 KiB parts, the last short")
			require.LessOrEqual(t, f.maxFlight.Load(), int32(3), "at most Concurrency parts in flight")
			require.Zero(t, f.puts)
		})
	}
}

func TestSmallReadFromStaysSmall(t *testing.T) {
	f := &fakeTarget{}
	w := New(context.Background(), f, Config{PartSize: 1 << 20, Limits: testLimits})
	_, err := w.ReadFrom(bytes.NewReader(data(100)))
	require.NoError(t, err)
	require.Less(t, cap(w.buf), 1<<20)
	require.NoError(t, w.Close())
	require.Equal(t, data(100), f.put)
}

// TestSeekableSmallSourceIsReadIntoItsSize proves that a file smaller than
// a part is read into one buffer of its size (and a byte to see the end),
// not grown to it by doubling, and that a source that grows after its size
// was taken is still read whole.
func TestSeekableSmallSourceIsReadIntoItsSize(t *testing.T) {
	for _, n := range []int{0, 1, 64 << 10, 1<<20 - 1} {
		f := &fakeTarget{}
		w := New(context.Background(), f, Config{PartSize: 1 << 20, Limits: testLimits})
		_, err := w.ReadFrom(bytes.NewReader(data(n)))
		require.NoError(t, err)
		require.Equal(t, n, len(w.buf))
		require.Equal(t, n+1, cap(w.buf), "%d bytes: one buffer of the size", n)
		require.NoError(t, w.Close())
		require.Equal(t, data(n), f.put)
	}

	f := &fakeTarget{}
	w := New(context.Background(), f, Config{PartSize: 1 << 20, Limits: testLimits})
	src := &growing{Reader: bytes.NewReader(data(1000)), more: data(5000)[1000:]}
	_, err := w.ReadFrom(src)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Equal(t, data(5000), f.put, "the bytes after the size taken are read too")
}

// growing is a bytes.Reader that has more to give after its end, as a file
// written to while it is read.
type growing struct {
	*bytes.Reader
	more []byte
}

func (g *growing) Read(p []byte) (int, error) {
	n, err := g.Reader.Read(p)
	if err == io.EOF && len(g.more) > 0 {
		n = copy(p, g.more)
		g.more = g.more[n:]
		return n, nil
	}
	return n, err
}

func TestFailedPartIsTheResult(t *testing.T) {
	boom := errors.New("part 2 refused")
	f := &fakeTarget{failPart: 2, failErr: boom}
	w := New(context.Background(), f, Config{PartSize: 1 << 10, Concurrency: 2, Limits: testLimits})
	_, werr := w.Write(data(10 << 10))
	err := w.Close()
	if werr != nil {
		err = werr
	}
	require.ErrorIs(t, err, boom, "the cause, not a cancelation")
	require.False(t, errors.Is(err, context.Canceled))
	require.True(t, f.aborted, "the session is aborted, with a live context")
	require.Nil(t, f.committed)
}

func TestCancelAborts(t *testing.T) {
	f := &fakeTarget{}
	ctx, cancel := context.WithCancel(context.Background())
	w := New(ctx, f, Config{PartSize: 1 << 10, Limits: testLimits})
	_, err := w.Write(data(5 << 10))
	require.NoError(t, err)
	cancel()
	require.ErrorIs(t, w.Close(), context.Canceled)
	require.True(t, f.aborted)
	require.Nil(t, f.committed)
}

func TestAbortBeforeAnyPart(t *testing.T) {
	f := &fakeTarget{}
	w := New(context.Background(), f, Config{PartSize: 1 << 10, Limits: testLimits})
	_, err := w.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, w.Abort(nil))
	require.Zero(t, f.puts)
	require.Nil(t, f.committed)
}

func TestTooLarge(t *testing.T) {
	l := testLimits
	l.MaxParts = 2
	f := &fakeTarget{}
	w := New(context.Background(), f, Config{PartSize: 1 << 10, Limits: l})
	// Two parts grow 1 KiB, then 2 KiB: 4 KiB needs a third.
	_, err := w.Write(data(4 << 10))
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.Contains(t, err.Error(), "Test's limit of 2 parts")
	require.Error(t, w.Close())
	require.Nil(t, f.committed)
}

func TestPlan(t *testing.T) {
	s3 := Limits{MinPart: 5 << 20, MaxPart: 5 << 30, MaxParts: 10000, MaxObject: 5 << 40}
	azure := Limits{MinPart: 64 << 10, MaxPart: 4000 << 20, MaxParts: 50000, MaxObject: 190 << 40}
	for name, l := range map[string]Limits{"S3": s3, "Azure": azure} {
		for _, base := range []int64{l.MinPart, 4 << 20, 16 << 20, 100 << 20, l.MaxPart} {
			if base < l.MinPart {
				continue
			}
			p := newPlan(base, l)
			var total int64
			for i := range l.MaxParts {
				s := p.size(i)
				require.GreaterOrEqual(t, s, l.MinPart)
				require.LessOrEqual(t, s, l.MaxPart)
				if i > 0 {
					require.GreaterOrEqual(t, s, p.size(i-1), "part sizes never shrink")
				}
				total += s
			}
			require.GreaterOrEqual(t, total, l.MaxObject, "%s base %d: every part holds the largest object", name, base)
			require.Equal(t, base, p.size(0))
			if p.step < l.MaxParts {
				require.Less(t, capacity(base, p.step+1, l), l.MaxObject, "%s base %d: the step is the largest that holds the largest object", name, base)
			}
			if name == "S3" {
				// S3 has room to spare: parts grow only for large streams.
				// Azure's 190 TiB in 50,000 blocks needs nearly every block
				// at its largest, so its parts grow early.
				require.Equal(t, base, p.size(int((256<<20)/base)), "%s: a 256 MiB stream keeps the requested size", name)
			}
		}
	}
}

// sectionFake is a fakeTarget whose sessions take sections.
type sectionFake struct {
	*fakeTarget
	sections atomic.Int32
}

func (s *sectionFake) Start(ctx context.Context) (Session, error) {
	if _, err := s.fakeTarget.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *sectionFake) PartFrom(ctx context.Context, num int, sec *io.SectionReader) (Part, error) {
	s.sections.Add(1)
	data := make([]byte, sec.Size())
	if _, err := io.ReadFull(sec, data); err != nil {
		return Part{}, err
	}
	return s.fakeTarget.Part(ctx, num, data)
}

func TestReaderAtGoesInSections(t *testing.T) {
	want := data(100<<10 + 17)
	for name, target := range map[string]func() (Target, *fakeTarget, func() int32){
		"sections": func() (Target, *fakeTarget, func() int32) {
			f := &fakeTarget{}
			s := &sectionFake{fakeTarget: f}
			return s, f, s.sections.Load
		},
		"a session without sections": func() (Target, *fakeTarget, func() int32) {
			f := &fakeTarget{}
			return f, f, func() int32 { return 26 }
		},
	} {
		t.Run(name, func(t *testing.T) {
			tg, f, sections := target()
			w := New(context.Background(), tg, Config{PartSize: 4 << 10, Concurrency: 3, Limits: testLimits})
			src := bytes.NewReader(want)
			_, err := src.Seek(0, io.SeekStart)
			require.NoError(t, err)
			n, err := w.ReadFrom(src)
			require.NoError(t, err)
			require.Equal(t, int64(len(want)), n)
			require.Zero(t, src.Len(), "the source is left at its end")
			require.Zero(t, w.allocated, "no part buffer")
			require.NoError(t, w.Close())
			require.True(t, bytes.Equal(want, f.committed))
			require.Equal(t, int32(26), sections())
			require.LessOrEqual(t, f.maxFlight.Load(), int32(3))
		})
	}
	t.Run("from the middle", func(t *testing.T) {
		f := &fakeTarget{}
		w := New(context.Background(), &sectionFake{fakeTarget: f}, Config{PartSize: 4 << 10, Limits: testLimits})
		src := bytes.NewReader(want)
		_, err := src.Seek(1000, io.SeekStart)
		require.NoError(t, err)
		_, err = w.ReadFrom(src)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.True(t, bytes.Equal(want[1000:], f.committed))
	})
	t.Run("a failed section part", func(t *testing.T) {
		boom := errors.New("part 3 refused")
		f := &fakeTarget{failPart: 3, failErr: boom}
		w := New(context.Background(), &sectionFake{fakeTarget: f}, Config{PartSize: 4 << 10, Concurrency: 2, Limits: testLimits})
		_, rerr := w.ReadFrom(bytes.NewReader(want))
		err := w.Close()
		if rerr != nil {
			err = rerr
		}
		require.ErrorIs(t, err, boom)
		require.True(t, f.aborted)
		require.Nil(t, f.committed)
	})
}

func TestHashSeesTheObjectInOrder(t *testing.T) {
	want := data(100<<10 + 17)
	sum := md5.Sum(want)
	feeds := map[string]func(w *Writer) error{
		"Write": func(w *Writer) error {
			for p := want; len(p) > 0; p = p[min(len(p), 3000):] {
				if _, err := w.Write(p[:min(len(p), 3000)]); err != nil {
					return err
				}
			}
			return nil
		},
		"ReadFrom": func(w *Writer) error {
			_, err := w.ReadFrom(struct{ io.Reader }{bytes.NewReader(want)})
			return err
		},
		"sections": func(w *Writer) error {
			_, err := w.ReadFrom(bytes.NewReader(want))
			return err
		},
		"Write then ReadFrom": func(w *Writer) error {
			if _, err := w.Write(want[:5000]); err != nil {
				return err
			}
			_, err := w.ReadFrom(bytes.NewReader(want[5000:]))
			return err
		},
	}
	for name, feed := range feeds {
		t.Run(name, func(t *testing.T) {
			f := &fakeTarget{}
			h := md5.New()
			w := New(context.Background(), &sectionFake{fakeTarget: f}, Config{PartSize: 4 << 10, Concurrency: 3, Limits: testLimits, Hash: h})
			require.NoError(t, feed(w))
			require.NoError(t, w.Close())
			require.True(t, bytes.Equal(want, f.committed))
			require.Equal(t, sum[:], h.Sum(nil), "the hash saw every byte once, in order, though parts went out of order")
		})
	}
}

// Section parts, which hold no buffer, grow from Concurrency while the
// rate grows (each part here takes as long however many are in flight),
// up to MaxSectionConcurrency; buffered parts stay at Concurrency, their
// memory bound.
func TestSectionPartsGrowWhileTheRateGrows(t *testing.T) {
	limits := Limits{Service: "Test", MinPart: 1 << 10, MaxPart: 1 << 20, MaxParts: 10000, MaxObject: 64 << 20}
	want := data(400 << 10) // 400 parts of 1 KiB
	f := &fakeTarget{delay: 20 * time.Millisecond}
	w := New(context.Background(), &sectionFake{fakeTarget: f}, Config{PartSize: 1 << 10, Concurrency: 2, MaxSectionConcurrency: 12, Limits: limits})
	_, err := w.ReadFrom(bytes.NewReader(want))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.True(t, bytes.Equal(want, f.committed))
	// 2, 4, 6, 9, 12. The first step is taken whatever the rate (there is
	// no round before it); from 4 to 6 is the rate's doing. A loaded
	// machine's timer jitter (CI) can stop it after that, so 6 is what is
	// asserted.
	require.GreaterOrEqual(t, w.rounds.Allowed(), 6, "grew with the rate")
	require.LessOrEqual(t, w.rounds.Allowed(), 12)
	require.Greater(t, f.maxFlight.Load(), int32(2), "more than Concurrency went at once")
	require.LessOrEqual(t, f.maxFlight.Load(), int32(12))

	// The same through Write: buffers, so Concurrency holds.
	f = &fakeTarget{delay: 2 * time.Millisecond}
	w = New(context.Background(), f, Config{PartSize: 1 << 10, Concurrency: 2, MaxSectionConcurrency: 12, Limits: limits})
	_, err = w.Write(want)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.True(t, bytes.Equal(want, f.committed))
	require.LessOrEqual(t, f.maxFlight.Load(), int32(2), "buffered parts stay at Concurrency")
}

// TestSectionPartsFollowATarget: with a target, two section parts go
// first and the first to finish sets how many go at once: parts that
// take 20 ms for 1 KiB are 51,200 bytes a second each, so 179,200 a
// second takes 4 (more when a loaded machine's timers stretch the first
// part: 10 at two and a half times its time), and never changes after.
func TestSectionPartsFollowATarget(t *testing.T) {
	limits := Limits{Service: "Test", MinPart: 1 << 10, MaxPart: 1 << 20, MaxParts: 10000, MaxObject: 64 << 20}
	want := data(60 << 10)
	f := &fakeTarget{delay: 20 * time.Millisecond}
	w := New(context.Background(), &sectionFake{fakeTarget: f}, Config{PartSize: 1 << 10, Concurrency: 8, MaxSectionConcurrency: 16, Limits: limits, Target: 179200})
	require.Equal(t, 2, w.rounds.Allowed(), "two go first")
	_, err := w.ReadFrom(bytes.NewReader(want))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.True(t, bytes.Equal(want, f.committed))
	require.GreaterOrEqual(t, w.rounds.Allowed(), 4, "the target needs four")
	require.LessOrEqual(t, w.rounds.Allowed(), 10)
	require.Greater(t, f.maxFlight.Load(), int32(2))
	require.LessOrEqual(t, f.maxFlight.Load(), int32(w.rounds.Allowed()), "never more than the target's count")
}

// TestKnownSizesAreCutInEqualParts: a source of known size is cut in
// equal parts (but the last), as many as the limit allows, even past
// where a stream's plan would have doubled its parts: 50 KiB in at most
// 10 parts of 1 KiB base is 10 parts of 5 KiB.
func TestKnownSizesAreCutInEqualParts(t *testing.T) {
	limits := Limits{Service: "Test", MinPart: 1 << 10, MaxPart: 1 << 20, MaxParts: 10, MaxObject: 1 << 30}
	want := data(50<<10 - 7)
	f := &sectionFake{fakeTarget: &fakeTarget{}}
	w := New(context.Background(), f, Config{PartSize: 1 << 10, Concurrency: 2, Limits: limits})
	_, err := w.ReadFrom(bytes.NewReader(want))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.True(t, bytes.Equal(want, f.committed))
	require.Len(t, f.parts, 10)
	for n := 1; n < 10; n++ {
		require.Len(t, f.parts[n], 5<<10, "part %d", n)
	}
	require.Len(t, f.parts[10], 5<<10-7)
}

// TestEqualPartsNeverDouble: with EqualParts a stream's parts stay at
// PartSize, and a stream past PartSize × MaxParts is refused; without it
// the plan doubles them so that MaxObject fits.
func TestEqualPartsNeverDouble(t *testing.T) {
	limits := Limits{Service: "Test", MinPart: 1 << 10, MaxPart: 1 << 20, MaxParts: 10, MaxObject: 1 << 30}
	f := &fakeTarget{}
	w := New(context.Background(), f, Config{PartSize: 1 << 10, Concurrency: 2, Limits: limits, EqualParts: true})
	_, err := w.Write(data(10 << 10))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Len(t, f.parts, 10)
	for n := 1; n <= 10; n++ {
		require.Len(t, f.parts[n], 1<<10, "part %d", n)
	}

	w = New(context.Background(), &fakeTarget{}, Config{PartSize: 1 << 10, Concurrency: 2, Limits: limits, EqualParts: true})
	_, err = w.Write(data(10<<10 + 1))
	if err == nil {
		err = w.Close()
	}
	require.ErrorIs(t, err, blob.ErrInvalidArgument, "past PartSize × MaxParts")

	f = &fakeTarget{}
	w = New(context.Background(), f, Config{PartSize: 1 << 10, Concurrency: 2, Limits: limits})
	_, err = w.Write(data(10 << 10))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Less(t, len(f.parts), 10, "the plan doubled its parts")
}
