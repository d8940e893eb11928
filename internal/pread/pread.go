// Package pread is the parallel ranged read every driver shares. One
// connection to a far server carries far less than the link (a single S3
// stream tops out near 100 MB/s, and a 40 MiB/s per-connection cap is
// common), so a full read of a large object may fetch its later parts as
// ranges over several connections at once, each pinned to the version of
// the first answer, and hand them to the caller in order: the driver's
// Reader stays a plain io.Reader.
//
// The first answer is the driver's usual full read, with whatever checks
// it makes of its own when read to its end. Its first MiB is a probe: when
// it arrived at loopback speed (Options.FastLink or more, timed from the
// answer's first bytes on), one connection is not the limit and the read
// stays that one stream, which is the fastest way there, checked as the
// driver checks it. Otherwise the first answer serves up to the next part
// boundary and is closed, and the rest comes as ranges; the driver's
// Check (the whole object's checksum) then covers every byte, the first
// answer's included, and a mismatch fails the Read that reaches the end.
//
// How many parts are out at once adapts: a read starts with
// Options.Start parts fetched or waiting, and each time as many parts as
// are allowed have been handed over it compares the rate of that round
// with the round before (the parts of a round after those asked for under
// the limit before, so that a round times the new limit); while the rate
// grows by a sixth or more it allows half as many parts again, and once it does not (the link, the server or
// the machine is full) it stays there. Options.Concurrency bounds it, so
// a Reader holds at most Concurrency × PartSize bytes: that product is the
// memory limit the caller sets. Options.Target instead follows a
// throughput the caller asks for: as many parts as the target divided by
// the rate one connection showed over the probe, within the same bound.
// Each part resumes on its own after a broken connection, as the driver's
// Fetch does for a single read.
package pread

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/adapt"
	"github.com/anyblob/anyblob/internal/checksum"
)

// ProbeBytes is how much of the first answer is timed.
const ProbeBytes = 1 << 20

// DefaultFastLink is the probe rate, in bytes per second, from which a
// read stays one stream: 128 MiB/s, above what one connection to a
// cloud's object store carries (near 100 MB/s for S3) and below what an
// emulator on loopback serves (Azurite, the slowest, 180 to 310 MiB/s
// over its first MiB; at 256 MiB/s, one read in three of
// BenchmarkAzureDownload went parallel for nothing).
const DefaultFastLink = 128 << 20

// Options size a parallel read. The zero value of a field means its
// default.
type Options struct {
	// PartSize is the size of each range (DefaultPartSize).
	PartSize int64
	// Concurrency is the most ranges fetched or waiting at once
	// (DefaultConcurrency), and so, times PartSize, the most memory a
	// Reader holds; 1 keeps every read one stream.
	Concurrency int
	// Start is how many ranges a parallel read starts with, before it
	// adapts (DefaultStart, and at most Concurrency).
	Start int
	// Target, when above 0, is the throughput in bytes per second a
	// parallel read aims at instead of adapting: Target over the probe's
	// rate parts at once, at least 2 and at most Concurrency.
	Target int64
	// FastLink is the probe rate from which a read stays one stream
	// (DefaultFastLink); tests raise it to force parallel reads on
	// loopback.
	FastLink int64
}

// Defaults of Options: ranges of 4 MiB, 12 at first and up to 15 while the
// rate keeps growing: 60 MiB of parts, so that with its connections and
// copy buffers (about 1 MiB) a reader stays under 64 MiB (16 parts peaked
// at 65.2 MiB in BenchmarkS3Far, 512 MiB at 40 MiB/s and 20 ms, with
// the link in a process of its own). 12 reach the
// 40 MiB/s-per-connection, 20 ms link of the benchmarks at about five
// times one stream; starting at 8 cost 128 MiB reads a fifth of their
// rate in the rounds spent growing (bench BenchmarkS3Far: 153 against
// 188 MB/s), so the start is where a far link already does well, and the
// rounds only add.
const (
	DefaultPartSize    = 4 << 20
	DefaultConcurrency = 15
	DefaultStart       = 12
)

func (o Options) withDefaults() Options {
	if o.PartSize <= 0 {
		o.PartSize = DefaultPartSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.FastLink <= 0 {
		o.FastLink = DefaultFastLink
	}
	if o.Start <= 0 {
		o.Start = DefaultStart
	}
	o.Start = min(o.Start, o.Concurrency)
	return o
}

// Worth says whether a full read of size bytes may go parallel: it takes
// at least two parts and Concurrency above 1.
func (o Options) Worth(size int64) bool {
	o = o.withDefaults()
	return o.Concurrency > 1 && size >= 2*o.PartSize
}

// Fetch reads len(buf) bytes at off of the object version the first
// answer came from (pinned to it, so a replaced object fails the read)
// into buf, resuming a broken body as the driver's single read does. Its
// errors are the driver's own, for its ErrorDetail.
type Fetch func(ctx context.Context, off int64, buf []byte) error

// Check verifies the whole object when a read goes parallel: Hash sees
// every byte in order and Verify judges its sum at the end (a mismatch is
// the driver's ErrInternal). A nil *Check reads unverified, as the
// driver's single read of an object without a checksum does.
//
// Algorithm names Hash's algorithm when its sums combine
// (checksum.Combinable: the CRCs): WriteAtTo then checks each part where
// it lands, in any order, and joins the parts' sums in order, so that no
// part's bytes wait for the parts before it. Hash must then be a fresh
// hash of that algorithm.
//
// Stream set means the driver's first answer is not checked by itself:
// Check then also covers a read that stays one stream. Left false, such
// a read is checked by the driver's own check of its first answer, and
// Check only sees the probe's bytes, a second time.
type Check struct {
	Hash      hash.Hash
	Verify    func(sum []byte) error
	Algorithm blob.ChecksumAlgorithm
	Stream    bool
}

// part is one range, fetched into buf.
type part struct {
	off, n int64
	buf    []byte
	sum    []byte // the part's checksum, when parts land out of order
	err    error
	done   chan struct{}
}

// Reader hands a read's bytes to the caller in order: the first answer's,
// then the parts'. It is an io.Reader and io.WriterTo; it is not safe for
// concurrent use, as no Reader is.
type Reader struct {
	first   io.ReadCloser // the first answer: the probe, then up to limit
	ctx     context.Context
	cancel  context.CancelFunc
	fetch   Fetch
	o       Options
	size    int64
	start   time.Time // when the probe's clock started: the first answer's first bytes
	from    int64     // bytes of the first answer before the clock started
	pos     int64     // offset of the next byte of the first answer
	probing bool
	limit   int64 // once parallel: where the first answer stops
	check   *Check

	wat   io.WriterAt // WriteAtTo's destination, which parts are written to as they come
	order chan *part  // parts in offset order, fetched or on their way
	// landed, for a WriteAtTo whose check combines, reads back, or that
	// has none, takes the parts as they are written, in any order, instead
	// of order.
	landed chan *part
	// back is wat as an io.ReaderAt, when a check that does not combine
	// hashes what was written by reading it back, in order.
	back io.ReaderAt

	// Adapting: tokens holds one token per part that may be out; a part
	// takes one before its fetch and gives it back once handed over.
	// rounds (internal/adapt) says when more may be out.
	tokens  chan struct{}
	allowed int // tokens in play: parts that may be out
	rounds  *adapt.Rounds
	wg      sync.WaitGroup
	bufs    chan []byte // part buffers handed back, for the next parts

	cur  *part // the part being handed over
	rest []byte
	end  int64 // where the parts handed over so far end
	err  error // sticky: io.EOF at the end
}

// New returns the Reader of a full read of a size-byte object whose first
// answer is first (its probe is timed from its first bytes). The caller has
// checked o.Worth(size) and that the answer can be pinned (an ETag or a
// generation for fetch). ctx is the read's: canceling it stops every
// fetch.
func New(ctx context.Context, first io.ReadCloser, size int64, fetch Fetch, check *Check, o Options) *Reader {
	ctx, cancel := context.WithCancel(ctx)
	return &Reader{first: first, ctx: ctx, cancel: cancel, fetch: fetch, o: o.withDefaults(),
		size: size, probing: true, limit: -1, check: check}
}

// ErrClosed is the error of a Read after Close.
var ErrClosed = errors.New("read after Close")

// decide ends the probe: the first answer keeps the read when it came at
// loopback speed, else it stops at the next part boundary and the parts
// after it are fetched as ranges.
func (p *Reader) decide() {
	p.probing = false
	elapsed := time.Since(p.start)
	rate := float64(p.pos-p.from) / max(elapsed.Seconds(), 1e-9)
	fast := elapsed <= 0 || rate >= float64(p.o.FastLink)
	partSize := p.o.PartSize
	boundary := (p.pos/partSize + 1) * partSize
	if fast || boundary >= p.size {
		if p.check != nil && !p.check.Stream {
			p.check = nil // one stream, checked by the driver at its end
		}
		return
	}
	p.limit = boundary
	p.order = make(chan *part, p.o.Concurrency)
	if p.wat != nil && (p.check == nil || checksum.Combinable(p.check.Algorithm) || p.back != nil) {
		p.landed = make(chan *part, p.o.Concurrency)
	}
	// A free list, not a sync.Pool: a pool drops its buffers at every GC,
	// and the new ones made meanwhile sat beside the garbage (a 512 MiB
	// far read peaked at 81 MiB of heap for 64 MiB of parts).
	p.bufs = make(chan []byte, p.o.Concurrency)
	p.tokens = make(chan struct{}, p.o.Concurrency)
	p.allow(p.start0(rate))
	p.rounds = adapt.New(p.allowed, p.o.Concurrency)
	if p.o.Target > 0 {
		p.rounds.Settle()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(p.order)
		for off := boundary; off < p.size; off += partSize {
			select {
			case <-p.tokens: // waits while as many parts as allowed are out
			case <-p.ctx.Done():
				return
			}
			pt := &part{off: off, n: min(partSize, p.size-off), done: make(chan struct{})}
			if p.landed == nil {
				p.order <- pt // never waits: no more parts than tokens
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer close(pt.done)
				var b []byte
				select {
				case b = <-p.bufs:
				default:
					b = make([]byte, partSize)
				}
				pt.buf = b[:pt.n]
				pt.err = p.fetch(p.ctx, pt.off, pt.buf)
				if pt.err == nil && p.wat != nil {
					pt.err = writeAt(p.wat, pt.buf, pt.off)
				}
				if p.landed != nil {
					// Written: checked here, and the buffer free for
					// the next part at once.
					if pt.err == nil && p.check != nil && p.back == nil {
						pt.sum = checksum.Sum(p.check.Algorithm, pt.buf)
					}
					pt.buf = nil
					select {
					case p.bufs <- b[:cap(b)]:
					default:
					}
					p.landed <- pt // never waits: no more parts than tokens
				}
			}()
		}
	}()
}

// start0 is how many parts a parallel read starts with: Options.Start,
// or for a Target, the target over one connection's rate (perConn, bytes
// per second, from the probe).
func (p *Reader) start0(perConn float64) int {
	if p.o.Target <= 0 {
		return p.o.Start
	}
	return adapt.ForTarget(p.o.Target, perConn, p.o.Concurrency)
}

// allow puts n more tokens in play, within Concurrency.
func (p *Reader) allow(n int) {
	n = min(n, p.o.Concurrency-p.allowed)
	for range n {
		p.tokens <- struct{}{}
	}
	p.allowed += n
}

// handedOver gives back the token of a part of n bytes the caller has
// read, and lets more parts out when the round says so.
func (p *Reader) handedOver(n int64) {
	p.tokens <- struct{}{}
	if more := p.rounds.Done(n); more > 0 {
		p.allow(more)
	}
}

// readFirst reads from the first answer, up to limit once parallel; it
// returns io.EOF when the first answer is done with.
func (p *Reader) readFirst(b []byte) (int, error) {
	if p.limit >= 0 {
		if p.pos >= p.limit {
			p.first.Close()
			p.first = nil
			return 0, io.EOF
		}
		b = b[:min(int64(len(b)), p.limit-p.pos)]
	}
	n, err := p.first.Read(b)
	if n > 0 {
		if p.probing && p.pos == 0 {
			// The clock starts with the first bytes: what a server takes
			// between its headers and its body (an emulator reading its
			// store) is no measure of the link.
			p.start, p.from = time.Now(), int64(n)
		}
		p.pos += int64(n)
		p.hash(b[:n])
		if p.probing && p.pos >= ProbeBytes {
			p.decide()
		}
		return n, nil // an error comes again with the next Read
	}
	if err == nil {
		return 0, nil
	}
	if err == io.EOF && p.limit >= 0 {
		err = fmt.Errorf("the first answer ended at byte %d, before %d: %w", p.pos, p.limit, io.ErrUnexpectedEOF)
	}
	if err == io.EOF {
		p.first.Close()
		p.first = nil
	}
	return 0, err
}

func (p *Reader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	for {
		if p.first != nil {
			n, err := p.readFirst(b)
			if n > 0 || err == nil && len(b) == 0 {
				return n, nil
			}
			if err == nil {
				continue
			}
			if err != io.EOF {
				p.err = err
				return 0, err
			}
		}
		if len(p.rest) > 0 {
			n := copy(b, p.rest)
			p.hash(b[:n])
			p.rest = p.rest[n:]
			return n, nil
		}
		if !p.next() {
			return 0, p.err
		}
	}
}

// copyBufs are WriteTo's buffers for the first answer: 32 KiB, as
// io.Copy's, which stay in the cache (with 256 KiB, loopback GCS reads
// into io.Discard ran at 2,400-2,900 MB/s against the storage client's
// 3,100; with 32 KiB, 2,700-2,850 against 2,780-2,910; S3 unchanged).
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// WriteTo hands the parts to w without copying them once more.
func (p *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	if p.err != nil {
		if p.err == io.EOF {
			return 0, nil
		}
		return 0, p.err
	}
	if p.first != nil {
		bp := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(bp)
		for p.first != nil {
			n, err := p.readFirst(*bp)
			if n > 0 {
				m, werr := w.Write((*bp)[:n])
				total += int64(m)
				if werr == nil && m < n {
					werr = io.ErrShortWrite
				}
				if werr != nil {
					p.err = werr
					return total, werr
				}
			}
			if err != nil && err != io.EOF {
				p.err = err
				return total, err
			}
		}
	}
	for {
		if len(p.rest) > 0 {
			p.hash(p.rest)
			n, err := w.Write(p.rest)
			total += int64(n)
			short := n < len(p.rest)
			p.rest = nil
			if err == nil && short {
				err = io.ErrShortWrite
			}
			if err != nil {
				p.err = err
				return total, err
			}
		}
		if !p.next() {
			if p.err == io.EOF {
				return total, nil
			}
			return total, p.err
		}
	}
}

// WriteAtTo writes the rest of the object into w, each byte at its own
// offset in the object: the first answer's bytes in order and, once the
// read goes parallel, each part as soon as it arrives, from the goroutine
// that fetched it, so a slow part holds up no write of the parts after it
// (w takes WriteAt calls in parallel on ranges that do not overlap, as
// io.WriterAt allows). With a check whose sums combine (Check.Algorithm)
// or none, each part is checked where it lands and its buffer and place
// go to the next part at once: no part waits for the parts before it.
// Another check (MD5) sees every byte in order: when w is also an
// io.ReaderAt that reads back what was written (a file), parts go as
// freely and the check reads the written bytes back in order (which also
// checks that they landed whole); otherwise a part's buffer waits until
// the parts before it are hashed. WriteAtTo returns only when every part
// is written, with the check's error, or the first failure. It returns
// the bytes written.
//
// Called after some bytes were read, or once parts are already out, it
// writes the rest in order at its offsets.
func (p *Reader) WriteAtTo(w io.WriterAt) (int64, error) {
	if p.err != nil {
		if p.err == io.EOF {
			return 0, nil
		}
		return 0, p.err
	}
	if p.order != nil || p.cur != nil {
		return p.WriteTo(io.NewOffsetWriter(w, p.offset()))
	}
	p.wat = w
	if ra, ok := w.(io.ReaderAt); ok && p.check != nil && !checksum.Combinable(p.check.Algorithm) {
		p.back = ra
	}
	var total int64
	if p.first != nil {
		bp := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(bp)
		for p.first != nil {
			at := p.pos
			n, err := p.readFirst(*bp)
			if n > 0 {
				if werr := writeAt(w, (*bp)[:n], at); werr != nil {
					p.err = werr
					return total, werr
				}
				total += int64(n)
			}
			if err != nil && err != io.EOF {
				p.err = err
				return total, err
			}
		}
	}
	if p.landed != nil {
		n, err := p.joinLanded()
		total += n
		if err == io.EOF {
			err = nil
		}
		return total, err
	}
	for p.next() {
		p.hash(p.rest) // written already, by the part's goroutine
		total += int64(len(p.rest))
		p.rest = nil
	}
	if p.err == io.EOF {
		return total, nil
	}
	return total, p.err
}

// joinLanded takes WriteAtTo's parts as they land, written (and hashed,
// for a check that combines) by their own goroutines, gives each one's
// token back at once, and joins their sums in offset order, or hashes
// their bytes read back from the destination in order (a map holds the
// parts ahead of a slow one, without their bytes). It ends with the
// check's verdict, io.EOF, or the first failure.
func (p *Reader) joinLanded() (int64, error) {
	var sum []byte
	if p.check != nil && p.back == nil {
		sum = p.check.Hash.Sum(nil) // the first answer's, hashed in order
	}
	var scratch []byte
	ahead := map[int64]*part{}
	var total int64
	p.end = p.limit
	for p.end < p.size {
		var pt *part
		select {
		case pt = <-p.landed:
		case <-p.ctx.Done():
			p.err = context.Cause(p.ctx)
			return total, p.err
		}
		if pt.err != nil {
			p.err = pt.err
			return total, p.err
		}
		total += pt.n
		p.handedOver(pt.n)
		ahead[pt.off] = pt
		for q := ahead[p.end]; q != nil; q = ahead[p.end] {
			delete(ahead, p.end)
			switch {
			case p.back != nil:
				if scratch == nil {
					scratch = make([]byte, 256<<10)
				}
				if err := p.hashBack(q.off, q.n, scratch); err != nil {
					p.err = err
					return total, err
				}
			case sum != nil:
				sum = checksum.Combine(p.check.Algorithm, sum, q.sum, q.n)
			}
			p.end += q.n
		}
	}
	p.err = io.EOF
	if c := p.check; c != nil {
		p.check = nil
		if p.back != nil {
			sum = c.Hash.Sum(nil)
		}
		if err := c.Verify(sum); err != nil {
			p.err = err
		}
	}
	return total, p.err
}

// hashBack feeds the check n bytes at off read back from the destination,
// through scratch.
func (p *Reader) hashBack(off, n int64, scratch []byte) error {
	for n > 0 {
		b := scratch[:min(n, int64(len(scratch)))]
		m, err := p.back.ReadAt(b, off)
		if m < len(b) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("reading back the %d bytes written at %d: %w", len(b), off, err)
		}
		p.check.Hash.Write(b)
		off += int64(len(b))
		n -= int64(len(b))
	}
	return nil
}

// offset is the object offset of the next byte Read would return.
func (p *Reader) offset() int64 {
	if p.cur != nil {
		return p.cur.off + p.cur.n - int64(len(p.rest))
	}
	return p.pos
}

// writeAt writes all of b at off, or fails.
func writeAt(w io.WriterAt, b []byte, off int64) error {
	n, err := w.WriteAt(b, off)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	return err
}

// next moves to the next part, waiting for it; false at the end (p.err is
// io.EOF, or the check's error) or on a failure (p.err).
func (p *Reader) next() bool {
	if p.cur != nil {
		select {
		case p.bufs <- p.cur.buf[:cap(p.cur.buf)]:
		default:
		}
		p.handedOver(p.cur.n)
		p.cur = nil
	}
	if p.order == nil {
		p.err = p.finish() // one stream: the first answer was all of it
		return false
	}
	pt, ok := <-p.order
	if !ok {
		if p.end < p.size {
			// The parts stopped coming before the end: the read was
			// canceled (never a short read that looks whole).
			p.err = context.Cause(p.ctx)
			if p.err == nil {
				p.err = fmt.Errorf("parts ended at byte %d of %d: %w", p.end, p.size, io.ErrUnexpectedEOF)
			}
			return false
		}
		p.err = p.finish()
		return false
	}
	<-pt.done
	if pt.err != nil {
		p.err = pt.err
		return false
	}
	p.cur, p.rest, p.end = pt, pt.buf, pt.off+pt.n
	return true
}

func (p *Reader) hash(b []byte) {
	if p.check != nil {
		p.check.Hash.Write(b)
	}
}

// finish checks the whole stream of a parallel read.
func (p *Reader) finish() error {
	if c := p.check; c != nil {
		p.check = nil
		if err := c.Verify(c.Hash.Sum(nil)); err != nil {
			return err
		}
	}
	return io.EOF
}

// Close stops the fetches still out and waits for them; it closes the
// first answer if it is still open.
func (p *Reader) Close() error {
	p.cancel()
	var err error
	if p.first != nil {
		err = p.first.Close()
		p.first = nil
	}
	if p.order != nil {
		for range p.order {
		}
	}
	p.wg.Wait()
	p.err = ErrClosed
	return err
}
