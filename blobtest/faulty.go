package blobtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/anyblob/anyblob/blob"
)

// Fault is one rule of a Faults: which calls it strikes and what it does to
// them. The zero value of every field means "any" or "none", as each field
// says, so Fault{} makes every call fail with blob.ErrInternal.
//
// What a strike does, by operation:
//   - OpRead: NewRangeReader (and NewReader) fails before the bucket is
//     asked; with Cut, NewRangeReader succeeds and the Reader fails
//     part-way instead (see Cut).
//   - OpWrite: NewWriter and Write succeed, and the Writer's Close fails:
//     the wrapper aborts the write beneath instead of committing it, so
//     nothing becomes visible, as with an upload that fails on the wire.
//     Latency is waited in Close, before the commit.
//   - Every other operation fails before the bucket is asked, so the call
//     has no effect.
//
// A Fault that breaks the rules its fields state (an unknown Op, an Err
// that is not a sentinel, a negative count, a Probability outside 0..1,
// Cut on an operation other than reads, CutAfter without Cut) is a mistake
// in the test: NewFaults, Add and Faulty panic on it.
type Fault struct {
	// Op is the operation the fault strikes: blob.OpRead, OpWrite,
	// OpAttributes, OpList, OpDelete, OpCopy or OpSign. "" means every
	// operation (only reads, when Cut is set).
	Op string
	// KeyPrefix limits the fault to keys that start with it; "" means every
	// key. Copy matches on its destination key, List on
	// ListOptions.Prefix (a listing of "logs/2024" matches KeyPrefix
	// "logs/", a listing of everything does not), and SignedURL on its key.
	KeyPrefix string
	// Err is the sentinel a struck call fails with (blob.ErrThrottled,
	// blob.ErrInternal, blob.ErrNotFound, ...); the error is a *blob.Error of
	// that kind whose message says "blobtest: injected fault". nil means
	// blob.ErrInternal, except for a fault with Latency and without Cut,
	// which then only delays the call. The shared layer's rules apply to
	// the error as to any backend's: ErrNotFound on Delete becomes nil
	// (the call still does not reach the bucket), and ErrNotFound on Copy
	// names the source key.
	Err error
	// After lets this many matching calls through, unharmed, before the
	// fault may strike; 0 means it may strike the first.
	After int
	// Times is the most calls the fault strikes; 0 means every matching
	// call (after After).
	Times int
	// Probability is the chance that a matching call (after After, within
	// Times) is struck, drawn from the Faults' seeded source; 0 means 1
	// (always). A call it spares is not struck, and counts towards neither
	// Times nor Injected.
	Probability float64
	// Latency is how long a struck call waits before it goes on (or fails,
	// when Err is set or Cut). The wait honours the call's context: a
	// canceled or expired context ends it at once and the call fails with
	// blob.ErrCanceled. 0 means no wait.
	Latency time.Duration
	// Cut makes the fault strike reads part-way, as a dropped connection
	// does: NewRangeReader succeeds and its Reader returns CutAfter bytes
	// of the range, then fails with Err (blob.ErrInternal when nil). When
	// the range holds CutAfter bytes or fewer, the Reader returns them all
	// and then the error in place of io.EOF, so a cut always shows.
	Cut bool
	// CutAfter is how many bytes a Cut read returns before it fails; 0
	// fails the first Read. It is used only with Cut.
	CutAfter int64
}

// ops are the operations a Fault may name.
var ops = []string{blob.OpRead, blob.OpWrite, blob.OpAttributes, blob.OpList, blob.OpDelete, blob.OpCopy, blob.OpSign}

// check returns why f is not a valid Fault, or nil.
func (f Fault) check() error {
	known := f.Op == ""
	for _, op := range ops {
		known = known || f.Op == op
	}
	switch {
	case !known:
		return fmt.Errorf("Op %q is not one of %s", f.Op, strings.Join(ops, ", "))
	case f.Err != nil && blob.KindOf(f.Err) != f.Err:
		return fmt.Errorf("Err %q is not one of the blob sentinels", f.Err)
	case f.After < 0, f.Times < 0, f.Latency < 0, f.CutAfter < 0:
		return fmt.Errorf("negative After, Times, Latency or CutAfter")
	case !(f.Probability >= 0 && f.Probability <= 1):
		return fmt.Errorf("Probability %v is not between 0 and 1", f.Probability)
	case f.Cut && f.Op != "" && f.Op != blob.OpRead:
		return fmt.Errorf("Cut is for reads, not Op %q", f.Op)
	case !f.Cut && f.CutAfter != 0:
		return fmt.Errorf("CutAfter without Cut")
	}
	return nil
}

// matches reports whether f concerns a call of op on key.
func (f Fault) matches(op, key string) bool {
	if f.Op != "" && f.Op != op {
		return false
	}
	if f.Cut && op != blob.OpRead {
		return false
	}
	return strings.HasPrefix(key, f.KeyPrefix)
}

// Faults is a set of Fault rules, a seeded random source and counters; it
// turns any Bucket into one that fails the way the rules say (see Bucket).
// It is safe for concurrent use, and several buckets may share one Faults,
// its rules and its counters.
//
// Rules are tried in the order they were added; the first that strikes a
// call decides what happens to it, and the rules after it do not see that
// call (their After and Times do not count it). Decisions depend only on
// the seed and the sequence of calls: the same seed and the same calls, in
// the same order, strike the same calls. Calls made concurrently reach the
// Faults in the order the scheduler lets them.
//
// The zero Faults has no rules and a source seeded with 0; NewFaults is the
// usual way to make one.
type Faults struct {
	mu       sync.Mutex
	rng      *rand.Rand
	rules    []*rule
	calls    map[string]int
	injected int
}

// rule is a Fault with its own counts.
type rule struct {
	Fault
	n      int // its number, from 1, in the order added
	seen   int // matching calls that reached it
	struck int // calls it struck
}

// NewFaults returns a Faults whose random source is seeded with seed, with
// faults as its first rules. It panics on an invalid Fault (see Fault).
func NewFaults(seed uint64, faults ...Fault) *Faults {
	f := &Faults{rng: newRand(seed)}
	for _, fault := range faults {
		f.Add(fault)
	}
	return f
}

// newRand is the seeded source of a Faults.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Faulty returns b with faults applied, on a Faults seeded with 1: the
// shortest way to a failing bucket when the test needs no counters. It
// panics on an invalid Fault (see Fault).
func Faulty(b blob.Bucket, faults ...Fault) blob.Bucket {
	return NewFaults(1, faults...).Bucket(b)
}

// Add adds fault after the rules already there; its After and Times count
// from now. It panics on an invalid Fault (see Fault).
func (f *Faults) Add(fault Fault) {
	if err := fault.check(); err != nil {
		panic("blobtest: invalid Fault: " + err.Error())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, &rule{Fault: fault, n: len(f.rules) + 1})
}

// Reset removes every rule, so the buckets of f stop failing (a Writer or
// Reader a rule already struck still fails at its Close or its cut); rules
// added after it are numbered from 1 again. The counters (Injected, Calls) and
// the random source are kept, so a test can heal the bucket and still
// check how many faults struck in all.
func (f *Faults) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// Injected returns how many calls a fault has struck so far, delays
// included. A write is counted when NewWriter is called (its fault shows at
// Close), a cut read when NewRangeReader is.
func (f *Faults) Injected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected
}

// Calls returns how many calls of op (blob.OpRead, ...) the buckets of f
// have passed to the bucket beneath or struck; "" means every operation.
// Calls the shared layer refuses first (a bad key, a closed bucket, a
// context already done) are not counted. Each key of a DeleteKeys is one
// OpDelete call; a Reader's or Writer's own calls are part of the
// NewRangeReader or NewWriter call that made it.
func (f *Faults) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if op == "" {
		total := 0
		for _, n := range f.calls {
			total += n
		}
		return total
	}
	return f.calls[op]
}

// Bucket returns b with the faults of f applied: a view of b (made with
// blob.Wrap) whose driver consults f on every call. Keys and options are
// still checked and errors wrapped once by the shared layer, before f sees
// a call and after it strikes, so an injected error is a *blob.Error naming
// the operation, bucket and key like any other. The view shares b's life
// (closing either closes both), and blob.As on it, or on its Readers and
// Writers, reaches b's native types.
//
// The view's driver has no batch delete of its own, so DeleteKeys (and
// DeletePrefix) deletes one key at a time and the faults strike each key
// on its own: a struck key stays, the others are deleted, and the first
// error is returned.
func (f *Faults) Bucket(b blob.Bucket) blob.Bucket {
	return blob.Wrap(b, func(d blob.Driver) blob.Driver { return &driver{d: d, f: f} })
}

// strike counts a call of op on key and returns the rule that strikes it,
// nil when none does.
func (f *Faults) strike(op, key string) *hit {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
	for _, r := range f.rules {
		if !r.matches(op, key) {
			continue
		}
		r.seen++
		if r.seen <= r.After || (r.Times > 0 && r.struck >= r.Times) {
			continue
		}
		if p := r.Probability; p > 0 && p < 1 {
			if f.rng == nil {
				f.rng = newRand(0)
			}
			if f.rng.Float64() >= p {
				continue
			}
		}
		r.struck++
		f.injected++
		return &hit{Fault: r.Fault, rule: r.n, strike: r.struck}
	}
	return nil
}

// hit is one strike: the fault, and which rule and strike it was, for the
// error's message.
type hit struct {
	Fault
	rule, strike int
}

// wait waits the fault's Latency, or until ctx is done, whose error it
// then returns.
func (h *hit) wait(ctx context.Context) error {
	if h.Latency <= 0 {
		return nil
	}
	t := time.NewTimer(h.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// err is the error the struck call fails with, nil for a delay only.
func (h *hit) err() error {
	kind := h.Err
	if kind == nil {
		if h.Latency > 0 && !h.Cut {
			return nil
		}
		kind = blob.ErrInternal
	}
	if h.Cut {
		return blob.Errorf(kind, "blobtest: injected fault: rule %d (strike %d) cut the read after %d bytes", h.rule, h.strike, h.CutAfter)
	}
	return blob.Errorf(kind, "blobtest: injected fault: rule %d (strike %d)", h.rule, h.strike)
}

// before runs a struck call's fault ahead of the call: it waits, then
// returns the error the call fails with, or nil to go on.
func (h *hit) before(ctx context.Context) error {
	if h == nil {
		return nil
	}
	if err := h.wait(ctx); err != nil {
		return err
	}
	return h.err()
}

// driver is the view's driver: it asks its Faults about every call, then
// forwards the calls spared to d.
type driver struct {
	d blob.Driver
	f *Faults
}

func (d *driver) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *blob.ReaderOptions) (blob.Reader, error) {
	h := d.f.strike(blob.OpRead, key)
	if h != nil && h.Cut {
		if err := h.wait(ctx); err != nil {
			return nil, err
		}
		r, err := d.d.NewRangeReader(ctx, key, offset, length, opts)
		if err != nil {
			return nil, err
		}
		return &cutReader{r: r, left: h.CutAfter, err: h.err()}, nil
	}
	if err := h.before(ctx); err != nil {
		return nil, err
	}
	return d.d.NewRangeReader(ctx, key, offset, length, opts)
}

func (d *driver) NewWriter(ctx context.Context, key string, opts *blob.WriterOptions) (blob.Writer, error) {
	h := d.f.strike(blob.OpWrite, key)
	w, err := d.d.NewWriter(ctx, key, opts)
	if err != nil || h == nil {
		return w, err
	}
	return &faultyWriter{ctx: ctx, w: w, h: h}, nil
}

func (d *driver) Attributes(ctx context.Context, key string) (*blob.Attributes, error) {
	if err := d.f.strike(blob.OpAttributes, key).before(ctx); err != nil {
		return nil, err
	}
	return d.d.Attributes(ctx, key)
}

func (d *driver) List(ctx context.Context, opts *blob.ListOptions) (*blob.ListPage, error) {
	if err := d.f.strike(blob.OpList, opts.Prefix).before(ctx); err != nil {
		return nil, err
	}
	return d.d.List(ctx, opts)
}

func (d *driver) Delete(ctx context.Context, key string) error {
	if err := d.f.strike(blob.OpDelete, key).before(ctx); err != nil {
		return err
	}
	return d.d.Delete(ctx, key)
}

func (d *driver) Copy(ctx context.Context, dstKey, srcKey string, opts *blob.CopyOptions) error {
	if err := d.f.strike(blob.OpCopy, dstKey).before(ctx); err != nil {
		return err
	}
	return d.d.Copy(ctx, dstKey, srcKey, opts)
}

func (d *driver) SignedURL(ctx context.Context, key string, opts *blob.SignedURLOptions) (string, error) {
	if err := d.f.strike(blob.OpSign, key).before(ctx); err != nil {
		return "", err
	}
	return d.d.SignedURL(ctx, key, opts)
}

func (d *driver) Close() error                           { return d.d.Close() }
func (d *driver) ErrorDetail(err error) blob.ErrorDetail { return d.d.ErrorDetail(err) }
func (d *driver) As(target any) bool                     { return blob.As(d.d, target) }

// Limits passes on the key limits of the driver beneath (blob.LimitsOf),
// so a faulty view stores the same keys as the bucket it wraps.
func (d *driver) Limits(ctx context.Context) (blob.Limits, error) {
	if l, ok := d.d.(blob.Limiter); ok {
		return l.Limits(ctx)
	}
	return blob.Limits{MaxKeyLen: blob.MaxKeyLen}, nil
}

// cutReader returns left bytes of r, then err, as a cut connection does.
type cutReader struct {
	r    blob.Reader
	left int64
	err  error
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, c.err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err == io.EOF {
		// The range ended before the cut: the cut shows in place of EOF.
		c.left = 0
		return n, c.err
	}
	return n, err
}

func (c *cutReader) Close() error            { return c.r.Close() }
func (c *cutReader) Attrs() blob.ReaderAttrs { return c.r.Attrs() }
func (c *cutReader) As(target any) bool      { return blob.As(c.r, target) }

// faultyWriter passes writes to w and fails at Close: it aborts w instead
// of committing, so nothing becomes visible. A delay-only fault waits, then
// commits.
type faultyWriter struct {
	ctx context.Context // the write's context, for the wait at Close
	w   blob.Writer
	h   *hit
}

func (w *faultyWriter) Write(p []byte) (int, error) { return w.w.Write(p) }

func (w *faultyWriter) Close() error {
	err := w.h.before(w.ctx)
	if err != nil {
		_ = w.w.Abort(err)
		return err
	}
	return w.w.Close()
}

func (w *faultyWriter) Abort(reason error) error { return w.w.Abort(reason) }
func (w *faultyWriter) As(target any) bool       { return blob.As(w.w, target) }
