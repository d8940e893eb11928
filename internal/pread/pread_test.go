package pread

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/adapt"
)

var errMismatch = errors.New("checksum mismatch")

// object is an in-memory object read the way a driver reads one: a first
// answer over all of it and ranges fetched on request.
type object struct {
	data []byte

	mu       sync.Mutex
	asked    []int64 // offsets fetched
	inFlight atomic.Int32
	peak     atomic.Int32
	flipAt   int64 // a fetch covering this offset returns it flipped; -1 none
	failAt   int64 // a fetch at this offset fails; -1 none
	block    chan struct{}
}

func newObject(n int) *object {
	d := make([]byte, n)
	for i := range d {
		d[i] = byte(i*7 + i/1000)
	}
	return &object{data: d, flipAt: -1, failAt: -1}
}

func (o *object) fetch(ctx context.Context, off int64, buf []byte) error {
	n := o.inFlight.Add(1)
	defer o.inFlight.Add(-1)
	for {
		p := o.peak.Load()
		if n <= p || o.peak.CompareAndSwap(p, n) {
			break
		}
	}
	o.mu.Lock()
	o.asked = append(o.asked, off)
	o.mu.Unlock()
	if o.block != nil {
		select {
		case <-o.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if off == o.failAt {
		return errors.New("the range failed")
	}
	copy(buf, o.data[off:])
	if o.flipAt >= off && o.flipAt < off+int64(len(buf)) {
		buf[o.flipAt-off] ^= 1
	}
	return nil
}

func (o *object) check() *Check {
	tab := crc32.MakeTable(crc32.Castagnoli)
	want := binary.BigEndian.AppendUint32(nil, crc32.Checksum(o.data, tab))
	return &Check{Hash: crc32.New(tab), Verify: func(sum []byte) error {
		if !bytes.Equal(sum, want) {
			return errMismatch
		}
		return nil
	}}
}

// firstAnswer is the driver's first answer: the object from byte 0 in
// reads of at most 64 KiB, its own check at its end (counted in ends).
type firstAnswer struct {
	r      *bytes.Reader
	closed bool
	ends   *int
}

func (f *firstAnswer) Read(b []byte) (int, error) {
	if len(b) > 64<<10 {
		b = b[:64<<10]
	}
	n, err := f.r.Read(b)
	if err == io.EOF {
		*f.ends++
	}
	return n, err
}

func (f *firstAnswer) Close() error { f.closed = true; return nil }

const mib = 1 << 20 // the part size of the tests

func open(o *object, fastLink int64, data []byte) (*Reader, *firstAnswer, *int) {
	ends := 0
	f := &firstAnswer{r: bytes.NewReader(data), ends: &ends}
	return New(context.Background(), f, int64(len(o.data)), o.fetch, o.check(),
		Options{PartSize: mib, Concurrency: 3, FastLink: fastLink}), f, &ends
}

func TestParallelHandsTheObjectOverInOrder(t *testing.T) {
	for _, how := range []string{"Read", "WriteTo"} {
		t.Run(how, func(t *testing.T) {
			o := newObject(9*mib + 12345)
			r, f, ends := open(o, 1<<62, o.data)
			var got bytes.Buffer
			var err error
			if how == "Read" {
				_, err = io.Copy(&got, struct{ io.Reader }{r}) // Read only
			} else {
				_, err = r.WriteTo(&got)
			}
			require.NoError(t, err)
			require.True(t, bytes.Equal(o.data, got.Bytes()), "whole and in order")
			require.NoError(t, r.Close())
			require.True(t, f.closed, "the first answer is closed at its boundary")
			require.Zero(t, *ends, "and never read to its end")
			sort.Slice(o.asked, func(i, j int) bool { return o.asked[i] < o.asked[j] })
			var want []int64
			for off := int64(2 * mib); off < int64(len(o.data)); off += mib {
				want = append(want, off)
			}
			require.Equal(t, want, o.asked, "from the mib boundary after the probe, every mib once")
			require.LessOrEqual(t, o.peak.Load(), int32(3), "at most Concurrency fetches at once")
		})
	}
}

func TestAFastFirstAnswerKeepsTheRead(t *testing.T) {
	o := newObject(5 * mib)
	o.flipAt = 3 * mib // would be caught if a mib were fetched
	r, f, ends := open(o, 1, o.data)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.True(t, bytes.Equal(o.data, got))
	require.Empty(t, o.asked, "no range fetched")
	require.Equal(t, 1, *ends, "the first answer was read to its end, where the driver checks it")
	require.NoError(t, r.Close())
	require.True(t, f.closed)
}

// TestAStreamCheckCoversAOneStreamRead proves that a Check marked Stream
// also judges a read that stays one stream (the driver then checks no
// first answer itself): a flipped byte past the probe fails it, through
// Read, WriteTo and WriteAtTo, and good bytes pass.
func TestAStreamCheckCoversAOneStreamRead(t *testing.T) {
	for _, how := range []string{"Read", "WriteTo", "WriteAtTo"} {
		for _, bad := range []int{-1, 100, 3*mib + 7, 5*mib - 1} {
			o := newObject(5 * mib)
			data := o.data
			if bad >= 0 {
				data = bytes.Clone(o.data)
				data[bad] ^= 1
			}
			ends := 0
			f := &firstAnswer{r: bytes.NewReader(data), ends: &ends}
			c := o.check()
			c.Stream = true
			r := New(context.Background(), f, int64(len(o.data)), o.fetch, c, Options{PartSize: mib, Concurrency: 3, FastLink: 1})
			var err error
			switch how {
			case "Read":
				_, err = io.ReadAll(r)
			case "WriteTo":
				_, err = r.WriteTo(io.Discard)
			case "WriteAtTo":
				_, err = r.WriteAtTo(newAt(len(o.data)))
			}
			if bad < 0 {
				require.NoError(t, err, how)
			} else {
				require.ErrorIs(t, err, errMismatch, "%s: a flipped byte at %d", how, bad)
			}
			require.Empty(t, o.asked, "one stream")
			require.NoError(t, r.Close())
		}
	}
}

func TestTheCheckCoversEveryByteOfAParallelRead(t *testing.T) {
	t.Run("a mib's byte", func(t *testing.T) {
		o := newObject(6 * mib)
		o.flipAt = 4*mib + 17
		r, _, _ := open(o, 1<<62, o.data)
		_, err := io.ReadAll(r)
		require.ErrorIs(t, err, errMismatch)
		r.Close()
	})
	t.Run("the first answer's byte", func(t *testing.T) {
		o := newObject(6 * mib)
		bad := bytes.Clone(o.data)
		bad[100] ^= 1 // in the probe
		r, _, _ := open(o, 1<<62, bad)
		_, err := io.ReadAll(r)
		require.ErrorIs(t, err, errMismatch)
		r.Close()
	})
}

func TestAFailedPartFailsTheRead(t *testing.T) {
	o := newObject(8 * mib)
	o.failAt = 5 * mib
	r, _, _ := open(o, 1<<62, o.data)
	var got bytes.Buffer
	_, err := r.WriteTo(&got)
	require.ErrorContains(t, err, "the range failed")
	require.Equal(t, 5*mib, got.Len(), "every byte before the failed mib, none after")
	_, err = r.Read(make([]byte, 10))
	require.ErrorContains(t, err, "the range failed", "the error sticks")
	require.NoError(t, r.Close())
}

func TestAFirstAnswerCutShortFailsTheRead(t *testing.T) {
	o := newObject(8 * mib)
	r, _, _ := open(o, 1<<62, o.data[:mib+mib/2]) // ends before the 2 MiB boundary
	_, err := io.ReadAll(r)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	r.Close()
}

func TestCloseMidReadStopsEveryFetch(t *testing.T) {
	before := runtime.NumGoroutine()
	o := newObject(20 * mib)
	o.block = make(chan struct{}) // fetches wait until canceled
	r, _, _ := open(o, 1<<62, o.data)
	_, err := io.ReadFull(r, make([]byte, 2*mib)) // the first answer's share
	require.NoError(t, err)
	// While the caller still reads the first answer, as many parts as
	// allowed (Start, bounded by Concurrency) are out.
	require.Eventually(t, func() bool { return o.inFlight.Load() == 3 }, 5*time.Second, time.Millisecond)
	require.NoError(t, r.Close())
	require.Zero(t, o.inFlight.Load(), "Close waited for the fetches")
	_, err = r.Read(make([]byte, 1))
	require.ErrorIs(t, err, ErrClosed)
	// (Not require.Eventually: it runs its condition on goroutines of
	// its own.)
	for end := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before, "no goroutine left behind")
	require.LessOrEqual(t, len(o.asked), 3, "no mib started after Close")
}

func TestWorth(t *testing.T) {
	o := Options{PartSize: mib, Concurrency: 4}
	require.False(t, o.Worth(2*mib-1))
	require.True(t, o.Worth(2*mib))
	require.False(t, Options{PartSize: mib, Concurrency: 1}.Worth(100*mib))
	require.True(t, Options{}.Worth(2*DefaultPartSize), "zero Options are the defaults")
}

// at records WriteAt calls into a buffer of the object's size.
type at struct {
	mu     sync.Mutex
	buf    []byte
	offs   []int64
	wrote  map[int64]chan struct{} // closed when a write at the offset happened
	failAt int64
}

func newAt(n int) *at {
	return &at{buf: make([]byte, n), wrote: map[int64]chan struct{}{}, failAt: -1}
}

func (a *at) seen(off int64) chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.wrote[off] == nil {
		a.wrote[off] = make(chan struct{})
	}
	return a.wrote[off]
}

func (a *at) WriteAt(b []byte, off int64) (int, error) {
	if off == a.failAt {
		return 0, errors.New("disk full")
	}
	c := a.seen(off)
	a.mu.Lock()
	defer a.mu.Unlock()
	copy(a.buf[off:], b)
	a.offs = append(a.offs, off)
	select {
	case <-c:
	default:
		close(c)
	}
	return len(b), nil
}

func TestWriteAtToWritesEachPartWhereItBelongsAsItComes(t *testing.T) {
	o := newObject(8*mib + 999)
	w := newAt(len(o.data))
	// The first part waits (up to 5 s) until the part after it has been
	// written: WriteAtTo must not hold later parts behind it.
	third := w.seen(3 * mib)
	fetch := o.fetch
	waited := false
	slowFirst := func(ctx context.Context, off int64, buf []byte) error {
		if off == 2*mib {
			select {
			case <-third:
				waited = true
			case <-time.After(5 * time.Second):
			}
		}
		return fetch(ctx, off, buf)
	}
	ends := 0
	f := &firstAnswer{r: bytes.NewReader(o.data), ends: &ends}
	r := New(context.Background(), f, int64(len(o.data)), slowFirst, o.check(), Options{PartSize: mib, Concurrency: 3, FastLink: 1 << 62})
	n, err := r.WriteAtTo(w)
	require.NoError(t, err)
	require.Equal(t, int64(len(o.data)), n)
	require.True(t, bytes.Equal(o.data, w.buf), "every byte where it belongs")
	require.True(t, waited, "a part was written before the part ahead of it arrived")
	require.NoError(t, r.Close())

	t.Run("the check still covers every byte", func(t *testing.T) {
		o := newObject(6 * mib)
		o.flipAt = 5*mib + 3
		r, _, _ := open(o, 1<<62, o.data)
		_, err := r.WriteAtTo(newAt(len(o.data)))
		require.ErrorIs(t, err, errMismatch)
		r.Close()
	})
	t.Run("a failed WriteAt fails it", func(t *testing.T) {
		o := newObject(6 * mib)
		r, _, _ := open(o, 1<<62, o.data)
		w := newAt(len(o.data))
		w.failAt = 4 * mib
		_, err := r.WriteAtTo(w)
		require.ErrorContains(t, err, "disk full")
		r.Close()
	})
	t.Run("after a Read, the rest in order at its offsets", func(t *testing.T) {
		o := newObject(6 * mib)
		r, _, _ := open(o, 1<<62, o.data)
		head := make([]byte, 3*mib+5) // into the parts
		_, err := io.ReadFull(r, head)
		require.NoError(t, err)
		w := newAt(len(o.data))
		n, err := r.WriteAtTo(w)
		require.NoError(t, err)
		require.Equal(t, int64(len(o.data)-len(head)), n)
		require.True(t, bytes.Equal(o.data[len(head):], w.buf[len(head):]))
		r.Close()
	})
	t.Run("one stream", func(t *testing.T) {
		o := newObject(5 * mib)
		r, _, ends := open(o, 1, o.data)
		w := newAt(len(o.data))
		n, err := r.WriteAtTo(w)
		require.NoError(t, err)
		require.Equal(t, int64(len(o.data)), n)
		require.True(t, bytes.Equal(o.data, w.buf))
		require.Empty(t, o.asked)
		require.Equal(t, 1, *ends)
		r.Close()
	})
}

// TestWriteAtToChecksPartsWhereTheyLand proves that with a check whose
// sums combine (a CRC), WriteAtTo holds no part behind a slow one: the
// first part waits until a part seven places after it is written, which
// with three parts in flight only happens when written parts give their
// place back at once (the ordered join waits 5 s and fails). The check
// still covers every byte, wherever the bad one is, and a read with no
// check lands parts the same way.
func TestWriteAtToChecksPartsWhereTheyLand(t *testing.T) {
	combining := func(o *object) *Check {
		c := o.check()
		c.Algorithm = blob.ChecksumCRC32C
		return c
	}
	slow := func(o *object, w *at, wait int64) (Fetch, *bool) {
		later := w.seen(wait)
		waited := false
		return func(ctx context.Context, off int64, buf []byte) error {
			if off == 2*mib {
				select {
				case <-later:
					waited = true
				case <-time.After(5 * time.Second):
				}
			}
			return o.fetch(ctx, off, buf)
		}, &waited
	}
	for name, check := range map[string]func(*object) *Check{"CRC32C": combining, "no check": func(*object) *Check { return nil }} {
		t.Run(name, func(t *testing.T) {
			o := newObject(12*mib + 999)
			w := newAt(len(o.data))
			fetch, waited := slow(o, w, 9*mib)
			ends := 0
			f := &firstAnswer{r: bytes.NewReader(o.data), ends: &ends}
			r := New(context.Background(), f, int64(len(o.data)), fetch, check(o), Options{PartSize: mib, Concurrency: 3, FastLink: 1 << 62})
			n, err := r.WriteAtTo(w)
			require.NoError(t, err)
			require.Equal(t, int64(len(o.data)), n)
			require.True(t, bytes.Equal(o.data, w.buf), "every byte where it belongs")
			require.True(t, *waited, "seven parts were written while the first was out")
			require.LessOrEqual(t, o.peak.Load(), int32(3), "never more parts out than allowed")
			require.NoError(t, r.Close())
		})
	}
	for _, bad := range []int64{100, 2*mib + 5, 7*mib + 1, 12*mib + 998} {
		o := newObject(12*mib + 999)
		data := o.data
		if bad < mib {
			data = bytes.Clone(o.data) // in the probe
			data[bad] ^= 1
		} else {
			o.flipAt = bad
		}
		w := newAt(len(o.data))
		fetch, _ := slow(o, w, 5*mib)
		ends := 0
		f := &firstAnswer{r: bytes.NewReader(data), ends: &ends}
		r := New(context.Background(), f, int64(len(o.data)), fetch, combining(o), Options{PartSize: mib, Concurrency: 3, FastLink: 1 << 62})
		_, err := r.WriteAtTo(w)
		require.ErrorIs(t, err, errMismatch, "a flipped byte at %d", bad)
		require.NoError(t, r.Close())
	}
	t.Run("a failed part fails it", func(t *testing.T) {
		o := newObject(12*mib + 999)
		o.failAt = 6 * mib
		ends := 0
		f := &firstAnswer{r: bytes.NewReader(o.data), ends: &ends}
		r := New(context.Background(), f, int64(len(o.data)), o.fetch, combining(o), Options{PartSize: mib, Concurrency: 3, FastLink: 1 << 62})
		_, err := r.WriteAtTo(newAt(len(o.data)))
		require.ErrorContains(t, err, "the range failed")
		require.NoError(t, r.Close())
	})
	t.Run("a canceled read is never short and whole", func(t *testing.T) {
		o := newObject(12*mib + 999)
		o.block = make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		ends := 0
		f := &firstAnswer{r: bytes.NewReader(o.data), ends: &ends}
		r := New(ctx, f, int64(len(o.data)), o.fetch, combining(o), Options{PartSize: mib, Concurrency: 3, FastLink: 1 << 62})
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := r.WriteAtTo(newAt(len(o.data)))
		require.ErrorIs(t, err, context.Canceled)
		require.NoError(t, r.Close())
	})
}

// readable is an at that reads back what was written, as a file does;
// flipAt, when not -1, is a byte it reads back changed, failAt an offset
// whose read fails.
type readable struct {
	*at
	flipAt, failAt int64
}

func (r *readable) ReadAt(b []byte, off int64) (int, error) {
	if off == r.failAt {
		return 0, errors.New("disk gone")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := copy(b, r.buf[off:])
	if r.flipAt >= off && r.flipAt < off+int64(n) {
		b[r.flipAt-off] ^= 1
	}
	return n, nil
}

// TestWriteAtToReadsBackForAnOrderedCheck proves that with a check that
// does not combine (MD5) and a destination that reads back what was
// written, WriteAtTo holds no part behind a slow one either (as in
// TestWriteAtToChecksPartsWhereTheyLand), and checks every byte by
// reading it back in order: a byte flipped on the way, a byte the
// destination gives back changed, and a failed read back all fail it.
func TestWriteAtToReadsBackForAnOrderedCheck(t *testing.T) {
	run := func(o *object, w *readable, data []byte, fetch Fetch) (int64, error) {
		ends := 0
		f := &firstAnswer{r: bytes.NewReader(data), ends: &ends}
		r := New(context.Background(), f, int64(len(o.data)), fetch, o.check(), Options{PartSize: mib, Concurrency: 3, FastLink: 1 << 62})
		defer r.Close()
		return r.WriteAtTo(w)
	}
	o := newObject(12*mib + 999)
	w := &readable{at: newAt(len(o.data)), flipAt: -1, failAt: -1}
	later := w.seen(9 * mib)
	waited := false
	slow := func(ctx context.Context, off int64, buf []byte) error {
		if off == 2*mib {
			select {
			case <-later:
				waited = true
			case <-time.After(5 * time.Second):
			}
		}
		return o.fetch(ctx, off, buf)
	}
	n, err := run(o, w, o.data, slow)
	require.NoError(t, err)
	require.Equal(t, int64(len(o.data)), n)
	require.True(t, bytes.Equal(o.data, w.buf))
	require.True(t, waited, "seven parts were written while the first was out")

	for name, bad := range map[string]func(o *object, w *readable){
		"flipped on the way":   func(o *object, _ *readable) { o.flipAt = 7*mib + 1 },
		"read back changed":    func(_ *object, w *readable) { w.flipAt = 5*mib + 3 },
		"the first answer's":   func(_ *object, w *readable) { w.flipAt = 100 },
		"the last byte's back": func(o *object, w *readable) { w.flipAt = int64(len(o.data) - 1) },
	} {
		o := newObject(12*mib + 999)
		w := &readable{at: newAt(len(o.data)), flipAt: -1, failAt: -1}
		bad(o, w)
		_, err := run(o, w, o.data, o.fetch)
		if name == "the first answer's" {
			// The first answer is hashed as it is read, not read back.
			require.NoError(t, err, name)
			continue
		}
		require.ErrorIs(t, err, errMismatch, name)
	}

	o = newObject(12*mib + 999)
	w = &readable{at: newAt(len(o.data)), flipAt: -1, failAt: 4 * mib}
	_, err = run(o, w, o.data, o.fetch)
	require.ErrorContains(t, err, "disk gone")
	require.ErrorContains(t, err, "reading back")
}

// adaptive reads an object of 400 parts of 64 KiB whose fetches take
// latency each, at most busy of them served at once (0: any number), and
// returns the parts the read allowed at the end and the most fetched at
// once.
func adaptive(t *testing.T, latency time.Duration, busy int) (allowed int, peak int32) {
	const partSize = 64 << 10
	o := newObject(400 * partSize)
	var server chan struct{}
	if busy > 0 {
		server = make(chan struct{}, busy)
	}
	var out, most atomic.Int32
	fetch := func(ctx context.Context, off int64, buf []byte) error {
		n := out.Add(1)
		defer out.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if server != nil {
			server <- struct{}{}
			defer func() { <-server }()
		}
		time.Sleep(latency)
		return o.fetch(ctx, off, buf)
	}
	ends := 0
	f := &firstAnswer{r: bytes.NewReader(o.data), ends: &ends}
	r := New(context.Background(), f, int64(len(o.data)), fetch, o.check(),
		Options{PartSize: partSize, Concurrency: 16, Start: 4, FastLink: 1 << 62})
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.True(t, bytes.Equal(o.data, got))
	require.NoError(t, r.Close())
	return r.allowed, most.Load()
}

// A link where each connection adds its own throughput (a fixed latency
// per part, no shared limit) lets the read grow to its bound; one where
// the server serves two at a time stops growing once more parts stop
// helping.
func TestPartsInFlightGrowWhileTheRateGrows(t *testing.T) {
	allowed, peak := adaptive(t, 20*time.Millisecond, 0)
	// 4, 6, 9, 13, 16: the first step is taken whatever the rate, the
	// others each want a sixth more, and the parts' latency gives a third
	// to a half more. A loaded machine's timer jitter (CI) can stop it
	// early, so two steps the rate decided are what is asserted.
	require.GreaterOrEqual(t, allowed, 9, "grew with the rate")
	require.LessOrEqual(t, allowed, 16)
	require.LessOrEqual(t, peak, int32(16), "and never past it")
	require.Greater(t, peak, int32(4), "more than it started with were out")

	allowed, peak = adaptive(t, 10*time.Millisecond, 2)
	require.Less(t, allowed, 16, "settled below the bound when the server was the limit")
	require.LessOrEqual(t, peak, int32(allowed))
}

func TestTargetThroughputChoosesTheParts(t *testing.T) {
	require.Equal(t, 5, adapt.ForTarget(200<<20, 40<<20, 16), "200 MiB/s over 40 MiB/s connections")
	require.Equal(t, 16, adapt.ForTarget(10<<30, 40<<20, 16), "bounded by Concurrency")
	require.Equal(t, 2, adapt.ForTarget(1<<20, 40<<20, 16), "at least two")
	require.Equal(t, 16, adapt.ForTarget(1<<20, 0, 16), "an unknown rate: the bound")
	require.Equal(t, 5, Options{Concurrency: 16, Start: 5}.withDefaults().Start)
	require.Equal(t, 3, Options{Concurrency: 3}.withDefaults().Start, "Start at most Concurrency")
}

// A read whose context ends while the parts already fetched are whole,
// and the rest not yet asked for, is never a short read that ends in
// io.EOF (nor, checked, a checksum mismatch): it is the context's error.
func TestACanceledReadIsNeverShortAndWhole(t *testing.T) {
	for _, checked := range []bool{true, false} {
		o := newObject(12 * mib)
		ctx, cancel := context.WithCancel(context.Background())
		ends := 0
		f := &firstAnswer{r: bytes.NewReader(o.data), ends: &ends}
		check := o.check()
		if !checked {
			check = nil
		}
		r := New(ctx, f, int64(len(o.data)), o.fetch, check, Options{PartSize: mib, Concurrency: 2, FastLink: 1 << 62})
		head := make([]byte, 2*mib+1) // the first answer's share and a byte of the first part
		_, err := io.ReadFull(r, head)
		require.NoError(t, err)
		time.Sleep(50 * time.Millisecond) // the parts out are fetched whole
		cancel()
		time.Sleep(50 * time.Millisecond) // and no more are asked for
		rest, err := io.ReadAll(r)
		require.ErrorIs(t, err, context.Canceled, "checked %v: read %d more bytes", checked, len(rest))
		require.Less(t, len(head)+len(rest), len(o.data))
		r.Close()
	}
}
