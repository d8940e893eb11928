package aws

import (
	"context"
	"hash"
	"io"
	"sync"
	"time"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/checksum"
)

// Parallel reads. One connection to a far server carries far less than
// the link (a single S3 stream tops out near 100 MB/s, and a 40 MiB/s
// per-connection cap is common), so a full read of a large object may
// fetch its later parts as ranges over several connections at once, each
// pinned to the ETag of the first answer, and hand them to the caller in
// order: NewReader stays a plain io.Reader. The first answer is the usual
// full GET (with the object's checksum, which the whole stream is checked
// against at the end). Its first MiB is a probe: when it arrived at
// loopback speed (fastLink or more, from the answer's headers on), one
// connection is not the limit and the read stays that one stream, which
// is the fastest way there; otherwise the first answer serves up to the
// next part boundary and is closed, and the rest comes as ranges. At most
// Options.ReadConcurrency parts are fetched or waiting at once, each
// ReadPartSize bytes, so a reader holds at most their product in memory.
// Each part resumes on its own after a broken connection, as a single
// read does.

// probeBytes is how much of the first answer is timed; fastLink the rate
// from which one stream is kept.
const (
	probeBytes = 1 << 20
	fastLink   = 256 << 20
)

// Read defaults.
const (
	// DefaultReadPartSize is the size of the parts of a parallel read.
	DefaultReadPartSize = 4 << 20
	// DefaultReadConcurrency is how many parts a read fetches at once.
	DefaultReadConcurrency = 12
)

// part is one range of a parallel read, fetched into buf.
type part struct {
	off, n int64
	buf    []byte
	err    error
	done   chan struct{}
}

// parallelReader hands a read's parts to the caller in order.
type parallelReader struct {
	first  *reader // the first answer: the probe, then up to a part boundary
	d      *driver
	ctx    context.Context
	key    string
	enc    *blob.Encryption
	start  time.Time // when the first answer's headers came
	probed int64     // bytes of the first answer read while probing; -1 once decided
	attrs  blob.ReaderAttrs
	cancel context.CancelFunc
	order  chan *part // parts in offset order, fetched or on their way
	wg     sync.WaitGroup
	bufs   *sync.Pool

	cur  *part // the part being handed over, after first
	rest []byte

	alg  blob.ChecksumAlgorithm
	want string
	sum  hash.Hash
	err  error
}

// parallelize turns r, a full read's first answer (whose headers came at
// start),
// into a read that may go parallel once its probe has been timed.
func (d *driver) parallelize(ctx context.Context, key string, r *reader, enc *blob.Encryption, start time.Time) *parallelReader {
	ctx, cancel := context.WithCancel(ctx)
	p := &parallelReader{first: r, d: d, ctx: ctx, key: key, enc: enc, start: start,
		attrs: r.attrs, cancel: cancel, alg: r.alg, want: r.want, sum: r.crc}
	r.crc = nil // the whole stream is checked here
	return p
}

// decide ends the probe: the first answer keeps the read when it came at
// loopback speed, else it stops at the next part boundary and the parts
// after it are fetched as ranges.
func (p *parallelReader) decide() {
	elapsed := time.Since(p.start)
	fast := elapsed <= 0 || float64(p.probed)/elapsed.Seconds() >= float64(p.d.c.fastLink)
	p.probed = -1
	if fast {
		return
	}
	size, partSize, conc := p.attrs.Size, p.d.c.readPartSize, p.d.c.readConc
	boundary := (p.first.pos/partSize + 1) * partSize
	if boundary >= size {
		return
	}
	p.first.left = boundary - p.first.pos
	p.order = make(chan *part, conc-1)
	p.bufs = &sync.Pool{New: func() any { b := make([]byte, partSize); return &b }}
	etag := p.attrs.ETag
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(p.order)
		for off := boundary; off < size; off += partSize {
			pt := &part{off: off, n: min(partSize, size-off), done: make(chan struct{})}
			select {
			case p.order <- pt: // waits while conc parts are out
			case <-p.ctx.Done():
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer close(pt.done)
				bp := p.bufs.Get().(*[]byte)
				pt.buf = (*bp)[:pt.n]
				pt.err = p.d.fetchPart(p.ctx, p.key, pt, etag, p.enc)
			}()
		}
	}()
}

// fetchPart reads pt's range, pinned to etag, resuming as a single read
// does.
func (d *driver) fetchPart(ctx context.Context, key string, pt *part, etag string, enc *blob.Encryption) error {
	resp, err := d.get(ctx, key, pt.off, pt.n, etag, false, nil, enc)
	if err != nil {
		return customerKeyError(err, enc != nil)
	}
	r := &reader{body: resp.Body, pos: pt.off, left: pt.n, ctxErr: ctx.Err,
		again: func(n int, cause error) error { return d.c.retry.Again(ctx, n, cause) },
		reopen: func(pos, n int64) (io.ReadCloser, error) {
			resp, err := d.get(ctx, key, pos, n, etag, false, nil, enc)
			if err != nil {
				return nil, err
			}
			return resp.Body, nil
		}}
	defer r.body.Close()
	_, err = io.ReadFull(r, pt.buf)
	return err
}

func (p *parallelReader) Attrs() blob.ReaderAttrs { return p.attrs }
func (p *parallelReader) As(any) bool             { return false }

func (p *parallelReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	for {
		if p.first != nil {
			n, err := p.first.Read(b)
			if n > 0 {
				p.hash(b[:n])
				if p.probed >= 0 {
					if p.probed += int64(n); p.probed >= probeBytes {
						p.decide()
					}
				}
				return n, nil
			}
			if err != io.EOF {
				p.err = err
				return 0, err
			}
			p.first.Close()
			p.first = nil
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

// WriteTo hands the parts to w without copying them once more.
func (p *parallelReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	if p.first != nil {
		bp := copyBufs.Get().(*[]byte)
		for p.first != nil {
			n, err := p.Read(*bp)
			if n > 0 {
				m, werr := w.Write((*bp)[:n])
				total += int64(m)
				if werr == nil && m < n {
					werr = io.ErrShortWrite
				}
				if werr != nil {
					copyBufs.Put(bp)
					p.err = werr
					return total, werr
				}
			}
			if err == io.EOF {
				copyBufs.Put(bp)
				return total, nil
			}
			if err != nil {
				copyBufs.Put(bp)
				return total, err
			}
			if len(p.rest) > 0 {
				break // the first answer is done; parts follow
			}
		}
		copyBufs.Put(bp)
	}
	for {
		if len(p.rest) > 0 {
			p.hash(p.rest)
			n, err := w.Write(p.rest)
			total += int64(n)
			p.rest = nil
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

// next moves to the next part, waiting for it; false at the end (p.err is
// io.EOF, or the checksum mismatch) or on a failure (p.err).
func (p *parallelReader) next() bool {
	if p.cur != nil {
		b := p.cur.buf[:cap(p.cur.buf)]
		p.bufs.Put(&b)
		p.cur = nil
	}
	if p.order == nil {
		p.err = p.finish() // one stream: the first answer was all of it
		return false
	}
	pt, ok := <-p.order
	if !ok {
		p.err = p.finish()
		return false
	}
	<-pt.done
	if pt.err != nil {
		p.err = pt.err
		return false
	}
	p.cur, p.rest = pt, pt.buf
	return true
}

func (p *parallelReader) hash(b []byte) {
	if p.sum != nil {
		p.sum.Write(b)
	}
}

// finish checks the whole stream against the object's checksum.
func (p *parallelReader) finish() error {
	if p.sum != nil {
		got := checksum.Base64(p.sum.Sum(nil))
		p.sum = nil
		if got != p.want {
			return blob.Errorf(blob.ErrInternal, "s3: checksum mismatch: object %s is %s, read data has %s", p.alg, p.want, got)
		}
	}
	return io.EOF
}

// Close stops the fetches still out and waits for them.
func (p *parallelReader) Close() error {
	p.cancel()
	if p.first != nil {
		p.first.Close()
	}
	if p.order != nil {
		for range p.order {
		}
	}
	p.wg.Wait()
	p.err = errClosed
	return nil
}
