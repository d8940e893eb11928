// Package upload is the one parallel upload engine of the drivers: S3's
// multipart upload and Azure's staged blocks are the same pipeline with
// different requests. It plans part sizes (growing so that any object the
// service accepts fits in its part limit), pools part buffers, bounds the
// parts in flight, cancels every part on the first failure and reports that
// failure (not a cancelation), and sends an object that fits in one part as
// a single request at Close, from a buffer that grows with the data, so a
// small write never takes a part-sized buffer.
package upload

import (
	"context"
	"errors"
	"hash"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/adapt"
)

// Target is one object being written, as the service sees it.
type Target interface {
	// Put writes the whole object in one request: it fit in the first part.
	Put(ctx context.Context, data []byte) error
	// Start begins a multipart (or staged) upload, once the object turns
	// out larger than one part.
	Start(ctx context.Context) (Session, error)
}

// Session is one multipart upload.
type Session interface {
	// Part sends part num (1-based). It may be called from several
	// goroutines at once, and must not keep data after it returns.
	Part(ctx context.Context, num int, data []byte) (Part, error)
	// Complete commits the parts, sorted by Num.
	Complete(ctx context.Context, parts []Part) error
	// Abort discards the upload; ctx is not canceled (but bounded by
	// CleanupTimeout), so cleanup runs after the write's context is gone.
	Abort(ctx context.Context) error
}

// SectionSession is a Session that can send a part straight from a
// section of a ReaderAt (a file, a bytes.Reader), reading it as it sends,
// so a source of known size is uploaded without part buffers.
type SectionSession interface {
	Session
	PartFrom(ctx context.Context, num int, section *io.SectionReader) (Part, error)
}

// Part is what the service answered for one part.
type Part struct {
	Num int
	// ID, ETag and Checksum are the service's: S3 uses ETag and Checksum,
	// Azure ID.
	ID, ETag, Checksum string
}

// Config sets up a Writer. PartSize is moved into [MinPart, MaxPart];
// Concurrency below 1 is 1.
type Config struct {
	PartSize    int64
	Concurrency int
	Limits      Limits
	// Hash, when set, is given every byte of the object in order as the
	// caller hands it over (parts are sent out of order), so that Complete
	// can send a digest of the whole object. A section of a ReaderAt is
	// read once more for it.
	Hash hash.Hash
	// MaxSectionConcurrency, when above Concurrency, lets section parts
	// (sent straight from a ReaderAt, with no buffer) grow from
	// Concurrency in flight while the rate grows (internal/adapt), up to
	// it: more connections, no more memory. Buffered parts stay at
	// Concurrency, their memory bound.
	MaxSectionConcurrency int
	// Target, when above 0, is the throughput in bytes per second the
	// section parts aim at instead of adapting, as the AWS CRT client's
	// target throughput: two parts go first, and the first to finish sets
	// how many go at once, Target over its own rate (one connection's), at
	// least 2 and at most MaxSectionConcurrency (or Concurrency when that
	// is larger). Buffered parts stay at Concurrency, their memory bound.
	Target int64
	// EqualParts keeps every part of a stream of unknown size at
	// PartSize (moved into the limits), never doubling, for services that
	// require equal parts (Cloudflare R2): such a stream holds at most
	// PartSize × MaxParts bytes. A source of known size is cut in equal
	// parts whatever this says.
	EqualParts bool
}

// DefaultMaxSectionConcurrency is the MaxSectionConcurrency drivers use
// when the caller left the concurrency to them: as many section parts as a
// parallel read's ranges (internal/pread), 16.
const DefaultMaxSectionConcurrency = 16

// CleanupTimeout bounds Session.Abort after a failed write.
const CleanupTimeout = 30 * time.Second

// readStart is the first buffer's capacity for ReadFrom, which cannot know
// how much comes; Write starts at the size of its first write. Either grows
// by doubling up to a part, so a small object costs about its own size.
const readStart = 16 << 10

// ErrAborted is the reason of an Abort called with a nil reason.
var ErrAborted = errors.New("write aborted")

// Writer streams an object to a Target: the caller's goroutine fills
// buffers (Write, ReadFrom), a goroutine started by New uploads them, at
// most Concurrency at once through at most Concurrency buffers. Memory is
// at most about PartSize x Concurrency (more as parts grow). Close commits;
// Abort, a failed part or cancelation of ctx discards the upload.
type Writer struct {
	t        Target
	limits   Limits
	plan     plan
	conc     int
	cancel   context.CancelCauseFunc
	allocMax int
	hash     hash.Hash // Config.Hash

	// caller side
	buf       []byte // the part being filled
	n         int    // parts handed to run
	written   int64
	allocated int // part buffers made

	parts chan partMsg
	free  chan []byte // buffers run is done with
	// tokens holds one token per section part that may be in flight: a
	// part takes one before it is sent and gives it back when done;
	// rounds says when more may be (Config.MaxSectionConcurrency).
	tokens chan struct{}
	rounds *adapt.Rounds
	done   chan struct{}

	// set by run before done is closed
	result     error // the write's outcome
	cleanupErr error // Session.Abort's failure
}

type partMsg struct {
	num     int // 1-based part number
	data    []byte
	section *io.SectionReader // the part instead of data, when set
	final   bool              // Close or Abort: data is the last part
	abort   bool
}

// New starts a Writer for t. ctx governs the whole write.
func New(ctx context.Context, t Target, cfg Config) *Writer {
	l := cfg.Limits
	size := min(max(cfg.PartSize, l.MinPart), l.MaxPart)
	conc := max(cfg.Concurrency, 1)
	ctx, cancel := context.WithCancelCause(ctx)
	w := &Writer{
		t: t, limits: l, plan: newPlan(size, l), conc: conc, cancel: cancel, hash: cfg.Hash,
		parts: make(chan partMsg),
		free:  make(chan []byte, conc+1),
		done:  make(chan struct{}),
	}
	if cfg.EqualParts {
		w.plan = plan{base: size, max: l.MaxPart, step: max(l.MaxParts, 1)}
	}
	most := max(cfg.MaxSectionConcurrency, conc)
	w.tokens = make(chan struct{}, most)
	if cfg.Target > 0 {
		w.rounds = adapt.NewTarget(cfg.Target, most)
	} else {
		w.rounds = adapt.New(conc, most)
	}
	for range w.rounds.Allowed() {
		w.tokens <- struct{}{}
	}
	go w.run(ctx)
	return w
}

// Write copies p into part buffers, handing each full one to the uploader.
func (w *Writer) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if err := w.room(int64(len(p))); err != nil {
			return written, err
		}
		size := w.plan.size(w.n)
		if err := w.ensureBuf(size, int64(len(p))); err != nil {
			return written, err
		}
		k := min(int(size)-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
		if w.hash != nil {
			w.hash.Write(p[:k])
		}
		p = p[k:]
		written += k
		w.written += int64(k)
		if int64(len(w.buf)) == size {
			if err := w.send(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// ReadFrom reads r straight into part buffers, saving a copy. The first
// part's buffer grows as data comes, as with Write, or is the size of what
// is left of a seekable r no larger than a part.
//
// A source that is an io.ReaderAt and io.Seeker (a file, a bytes.Reader)
// larger than one part, handed over before any other data, is sent in
// sections read as they go out: no part buffers, memory independent of the
// part size. ReadFrom then returns once every part has been sent, leaving
// r at its end, so r may be closed after it returns.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if n, ok, err := w.readSections(r); ok || err != nil {
		return n, err
	}
	var total int64
	for {
		if err := w.roomForMore(r); err != nil || w.n >= w.limits.MaxParts {
			return total, err
		}
		size := w.plan.size(w.n)
		if err := w.ensureBuf(size, 0); err != nil {
			return total, err
		}
		if len(w.buf) == cap(w.buf) {
			w.buf = growBuf(w.buf, int64(len(w.buf))+1, size) // only the first part's can be short
		}
		n, err := io.ReadFull(r, w.buf[len(w.buf):min(int64(cap(w.buf)), size)])
		if w.hash != nil {
			w.hash.Write(w.buf[len(w.buf) : len(w.buf)+n])
		}
		w.buf = w.buf[:len(w.buf)+n]
		total += int64(n)
		w.written += int64(n)
		if int64(len(w.buf)) == size {
			if serr := w.send(); serr != nil {
				return total, serr
			}
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return total, nil
		case err != nil:
			return total, err
		}
	}
}

// readSections sends a seekable ReaderAt in sections; ok is false when r
// is not one, is not larger than a part, or data came before it.
func (w *Writer) readSections(r io.Reader) (int64, bool, error) {
	ra, ok1 := r.(io.ReaderAt)
	sk, ok2 := r.(io.Seeker)
	if !ok1 || !ok2 || w.n > 0 || len(w.buf) > 0 {
		return 0, false, nil
	}
	off, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, false, nil
	}
	end, err := sk.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, false, nil
	}
	if _, err := sk.Seek(off, io.SeekStart); err != nil {
		return 0, true, err
	}
	if end-off <= w.plan.size(0) {
		// One part: its buffer is made the size that is left, and one
		// byte more to see the end, instead of growing to it by doubling
		// (four buffers and three copies for a 64 KiB file).
		w.allocated++ // as ensureBuf counts the first part's buffer
		w.buf = make([]byte, 0, min(end-off+1, w.plan.size(0)))
		return 0, false, nil
	}
	// The size is known: equal parts (but the last), as few as the first
	// part's size allows, so that any object the service stores fits and
	// services that want equal parts (R2) get them.
	part := equalParts(w.plan.size(0), end-off, w.limits)
	var total int64
	for pos := off; pos < end; {
		if err := w.room(min(end-pos, part)); err != nil {
			return total, true, err
		}
		n := min(end-pos, part)
		if w.hash != nil {
			if _, err := io.Copy(w.hash, io.NewSectionReader(ra, pos, n)); err != nil {
				return total, true, err
			}
		}
		select {
		case <-w.tokens:
		case <-w.done:
			return total, true, w.result
		}
		select {
		case w.parts <- partMsg{num: w.n + 1, section: io.NewSectionReader(ra, pos, n)}:
			w.n++
		case <-w.done:
			return total, true, w.result
		}
		pos += n
		total += n
		w.written += n
	}
	// Every section sent: wait until none is in flight, so r is free.
	// Settled first, so that no part lets more out meanwhile.
	w.rounds.Settle()
	all := w.rounds.Allowed()
	for range all {
		select {
		case <-w.tokens:
		case <-w.done:
			return total, true, w.result
		}
	}
	for range all {
		w.tokens <- struct{}{}
	}
	_, err = sk.Seek(end, io.SeekStart)
	return total, true, err
}

// roomForMore checks there is room for more of r: when every part is used,
// only the end of r may come.
func (w *Writer) roomForMore(r io.Reader) error {
	if w.n >= w.limits.MaxParts {
		var one [1]byte
		n, err := io.ReadFull(r, one[:])
		if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
			return nil
		}
	}
	return w.room(1)
}

// ensureBuf makes w.buf a buffer for the current part, of size bytes: the
// first part's starts small and grows; others come from the free list, new
// while fewer than Concurrency exist, else it waits for one.
func (w *Writer) ensureBuf(size, need int64) error {
	if w.buf != nil {
		if int64(len(w.buf))+need > int64(cap(w.buf)) && int64(cap(w.buf)) < size {
			w.buf = growBuf(w.buf, int64(len(w.buf))+need, size)
		}
		return nil
	}
	if w.n == 0 {
		w.allocated++ // the first part's buffer counts against Concurrency
		if need == 0 {
			need = readStart
		}
		w.buf = make([]byte, 0, min(size, need))
		return nil
	}
	for {
		var b []byte
		select {
		case b = <-w.free:
		default:
			if w.allocated < w.conc {
				w.allocated++
				b = getBuf(size)
			} else {
				select {
				case b = <-w.free:
				case <-w.done:
					return w.result
				}
			}
		}
		if int64(cap(b)) < size {
			putBuf(b, w.limits.MinPart)
			b = getBuf(size)
		}
		w.buf = b[:0]
		return nil
	}
}

// growBuf returns b's data in a buffer of at least want bytes and at most
// limit (the part size), doubling, so that filling it costs amortized linear
// time.
func growBuf(b []byte, want, limit int64) []byte {
	c := min(limit, max(int64(cap(b))*2, want))
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}

// room fails when n more bytes cannot fit in the upload.
func (w *Writer) room(n int64) error {
	if w.n >= w.limits.MaxParts || w.written+n > w.limits.MaxObject {
		err := blob.Errorf(blob.ErrInvalidArgument, "object too large: %d bytes or more would need more than %s's limit of %d parts (%d full parts written; %d bytes at most)",
			w.written+n, w.limits.Service, w.limits.MaxParts, w.n, w.limits.MaxObject)
		w.cancel(err)
		<-w.done
		return err
	}
	return nil
}

// send hands the full buffer to run.
func (w *Writer) send() error {
	select {
	case w.parts <- partMsg{num: w.n + 1, data: w.buf}:
		w.n++
		w.buf = nil
		return nil
	case <-w.done:
		return w.result
	}
}

// Close commits the object and returns the write's outcome: the first
// failure (of a part, the commit, or the caller's context) when there was
// one.
func (w *Writer) Close() error {
	select {
	case w.parts <- partMsg{num: w.n + 1, data: w.buf, final: true}:
	case <-w.done:
	}
	<-w.done
	w.buf = nil
	return w.result
}

// Abort discards the upload; it returns only a cleanup failure.
func (w *Writer) Abort(reason error) error {
	if reason == nil {
		reason = ErrAborted
	}
	w.cancel(reason)
	<-w.done
	w.buf = nil
	return w.cleanupErr
}

// Written is how many bytes the caller has handed over so far.
func (w *Writer) Written() int64 { return w.written }

// run uploads what the caller's side hands it, then commits or aborts.
func (w *Writer) run(ctx context.Context) {
	defer close(w.done)
	defer w.recycle()
	defer w.cancel(nil)
	u := &uploader{w: w, ctx: ctx}
	last := u.receive()
	defer func() {
		if cap(last.data) >= int(w.limits.MinPart) {
			putBuf(last.data, w.limits.MinPart)
		}
	}()
	if u.err() == nil && !last.abort && u.session == nil {
		// Everything fit in one part.
		w.result = w.t.Put(ctx, last.data)
		if w.result == nil && ctx.Err() != nil {
			w.result = context.Cause(ctx)
		}
		return
	}
	if u.err() == nil && !last.abort && len(last.data) > 0 {
		u.part(last.num, last.data, false)
	}
	u.wg.Wait()
	err := u.err()
	if err == nil && ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	if err == nil {
		sort.Slice(u.done, func(i, j int) bool { return u.done[i].Num < u.done[j].Num })
		err = u.session.Complete(ctx, u.done)
	}
	if err != nil {
		w.result = err
		if u.session != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
			w.cleanupErr = u.session.Abort(cctx)
			cancel()
		}
	}
}

// uploader is run's state: the session, the parts in flight and done, and
// the first failure.
type uploader struct {
	w       *Writer
	ctx     context.Context
	session Session
	wg      sync.WaitGroup

	mu       sync.Mutex
	firstErr error
	done     []Part
}

// receive takes parts until the final message, starting the session at
// the first full part, and returns the final message.
func (u *uploader) receive() partMsg {
	for {
		select {
		case m := <-u.w.parts:
			if m.final {
				return m
			}
			if u.session == nil {
				s, err := u.w.t.Start(u.ctx)
				if err != nil {
					u.fail(err)
					if m.section != nil {
						u.w.tokens <- struct{}{}
					} else {
						u.w.free <- m.data
					}
					return partMsg{final: true, abort: true}
				}
				u.session = s
			}
			if m.section != nil {
				u.sectionPart(m.num, m.section)
			} else {
				u.part(m.num, m.data, true)
			}
		case <-u.ctx.Done():
			return partMsg{final: true, abort: true}
		}
	}
}

// part sends one part, in its own goroutine when async.
func (u *uploader) part(num int, data []byte, async bool) {
	send := func() {
		p, err := u.session.Part(u.ctx, num, data)
		if async {
			u.w.free <- data
		}
		u.record(num, p, err)
	}
	if !async {
		send()
		return
	}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		send()
	}()
}

// sectionPart sends a part read from a section, in its own goroutine,
// freeing its slot when done. A session that cannot send sections gets
// the section read into a buffer.
func (u *uploader) sectionPart(num int, section *io.SectionReader) {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		start := time.Now()
		defer func() { u.w.sectionDone(section.Size(), time.Since(start)) }()
		var p Part
		var err error
		if ss, ok := u.session.(SectionSession); ok {
			p, err = ss.PartFrom(u.ctx, num, section)
		} else {
			data := make([]byte, section.Size())
			if _, err = io.ReadFull(section, data); err == nil {
				p, err = u.session.Part(u.ctx, num, data)
			}
		}
		u.record(num, p, err)
	}()
}

// sectionDone gives back a finished section part's token (of n bytes,
// sent in d), and lets more section parts out when the rounds (or the
// target) say so.
func (w *Writer) sectionDone(n int64, d time.Duration) {
	w.tokens <- struct{}{}
	for range w.rounds.Finished(n, d) {
		w.tokens <- struct{}{}
	}
}

// record notes part num's outcome: the part, or the write's failure.
func (u *uploader) record(num int, p Part, err error) {
	if err != nil {
		u.fail(err)
		return
	}
	p.Num = num
	u.mu.Lock()
	u.done = append(u.done, p)
	u.mu.Unlock()
}

// fail records the first failure and cancels the rest with it as the
// cause, so the write reports the failure, never "context canceled".
func (u *uploader) fail(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.firstErr == nil {
		u.firstErr = err
		u.w.cancel(err)
	}
}

func (u *uploader) err() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.firstErr
}

// bufPools keeps part buffers between writers, one pool per size, so a
// program that uploads many objects does not allocate (and zero) PartSize x
// Concurrency bytes for each.
var bufPools sync.Map // int64 -> *sync.Pool of *[]byte

func getBuf(size int64) []byte {
	if p, ok := bufPools.Load(size); ok {
		if b, ok := p.(*sync.Pool).Get().(*[]byte); ok {
			return (*b)[:0]
		}
	}
	return make([]byte, 0, size)
}

// putBuf returns a part buffer to its pool; smaller ones are dropped.
func putBuf(b []byte, minPart int64) {
	size := int64(cap(b))
	if size < minPart {
		return
	}
	p, _ := bufPools.LoadOrStore(size, &sync.Pool{})
	b = b[:0]
	p.(*sync.Pool).Put(&b)
}

// recycle returns the writer's buffers to the pools once run is done with
// them: every part has finished by then.
func (w *Writer) recycle() {
	for {
		select {
		case b := <-w.free:
			putBuf(b, w.limits.MinPart)
		default:
			return
		}
	}
}
