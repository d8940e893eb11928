package aws

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anyblob/anyblob/blob"
)

// cleanupTimeout bounds AbortMultipartUpload after a failed write.
const cleanupTimeout = 30 * time.Second

// NewWriter starts a write. Data is gathered in part-sized buffers: an
// object that fits in the first part is sent with one PutObject at Close;
// a larger one becomes a multipart upload whose parts are sent while the
// caller keeps writing, at most Concurrency at once, through at most
// Concurrency reused buffers. Part sizes grow as partPlan says, so a
// stream of unknown size up to 5 TiB fits in 10,000 parts; past that, Write
// fails with ErrInvalidArgument. Any failure, Abort, or cancelation of ctx
// aborts the multipart upload.
//
// PartSize below MinPartSize is raised to it; above MaxPartSize it is
// lowered to it.
func (d *driver) NewWriter(ctx context.Context, key string, opts *blob.WriterOptions) (blob.Writer, error) {
	size := opts.PartSize
	if size == 0 {
		size = d.c.partSize
	}
	size = min(max(size, MinPartSize), MaxPartSize)
	conc := opts.Concurrency
	if conc == 0 {
		conc = d.c.conc
	}
	stored, err := d.k(key)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	w := &writer{
		d:        d,
		key:      stored,
		opts:     *opts,
		plan:     newPartPlan(size),
		maxParts: d.c.maxParts(),
		conc:     conc,
		cancel:   cancel,
		parts:    make(chan partMsg),
		free:     make(chan []byte, conc+1),
		done:     make(chan struct{}),
	}
	go w.run(ctx)
	return w, nil
}

func (c *Client) maxParts() int {
	if c.partLimit > 0 {
		return c.partLimit
	}
	return MaxParts
}

type partMsg struct {
	num   int // 1-based part number
	data  []byte
	final bool // Close or Abort: data is the last part
	abort bool
}

type completedPart struct {
	XMLName        xml.Name `xml:"Part"`
	PartNumber     int      `xml:"PartNumber"`
	ETag           string   `xml:"ETag"`
	ChecksumCRC32C string   `xml:"ChecksumCRC32C,omitempty"`
}

// writer is the multipart pipeline. The caller's goroutine fills buffers
// (Write, ReadFrom); run, started by NewWriter, uploads them.
type writer struct {
	d        *driver
	key      string
	opts     blob.WriterOptions
	plan     partPlan
	maxParts int
	conc     int
	cancel   context.CancelCauseFunc

	// caller side
	buf       []byte // the part being filled
	n         int    // parts handed to run
	written   int64
	allocated int // buffers made

	parts chan partMsg
	free  chan []byte // buffers run is done with
	done  chan struct{}

	// set by run before done is closed
	result     error // the write's outcome
	cleanupErr error // AbortMultipartUpload's failure
}

func (w *writer) As(target any) bool { return false }

// nextBuf makes w.buf an empty buffer of at least need bytes: a freed one,
// a new one while fewer than conc exist, else it waits for one.
func (w *writer) nextBuf(need int64, small bool) error {
	for {
		var b []byte
		select {
		case b = <-w.free:
		default:
			if w.allocated < w.conc {
				w.allocated++
				if small {
					// The first buffer grows as data comes, so a small
					// object costs little memory.
					b = make([]byte, 0, min(need, 64<<10))
				} else {
					b = getBuf(need)
				}
			} else {
				select {
				case b = <-w.free:
				case <-w.done:
					return w.result
				}
			}
		}
		if !small && int64(cap(b)) < need {
			b = getBuf(need)
		}
		w.buf = b[:0]
		return nil
	}
}

func (w *writer) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if err := w.room(int64(len(p))); err != nil {
			return written, err
		}
		size := w.plan.size(w.n)
		if w.buf == nil {
			if err := w.nextBuf(size, w.n == 0); err != nil {
				return written, err
			}
		}
		k := min(int(size)-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
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

// room fails when n more bytes cannot fit in the upload.
func (w *writer) room(n int64) error {
	if w.n >= w.maxParts || w.written+n > MaxObjectSize {
		err := errTooLarge(w.n, w.maxParts, w.written+n)
		w.cancel(err)
		<-w.done
		return err
	}
	return nil
}

// ReadFrom reads r straight into part buffers, saving a copy.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		if w.n >= w.maxParts {
			// Every part is used: only the end of r may come now.
			var one [1]byte
			n, err := io.ReadFull(r, one[:])
			if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
				return total, nil
			}
			if err := w.room(1); err != nil {
				return total, err
			}
		}
		if err := w.room(1); err != nil {
			return total, err
		}
		size := w.plan.size(w.n)
		if w.buf == nil {
			if err := w.nextBuf(size, false); err != nil {
				return total, err
			}
		} else if int64(cap(w.buf)) < size {
			nb := getBuf(size)[:len(w.buf)]
			copy(nb, w.buf)
			w.buf = nb
		}
		n, err := io.ReadFull(r, w.buf[len(w.buf):size])
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

// send hands the full buffer to run.
func (w *writer) send() error {
	select {
	case w.parts <- partMsg{num: w.n + 1, data: w.buf}:
		w.n++
		w.buf = nil
		return nil
	case <-w.done:
		return w.result
	}
}

func (w *writer) Close() error {
	select {
	case w.parts <- partMsg{num: w.n + 1, data: w.buf, final: true}:
	case <-w.done:
	}
	<-w.done
	w.buf = nil
	return w.result
}

func (w *writer) Abort(reason error) error {
	if reason == nil {
		reason = errAborted
	}
	w.cancel(reason)
	<-w.done
	w.buf = nil
	return w.cleanupErr
}

var errAborted = errors.New("s3: write aborted")

// run uploads what the caller's side hands it, then commits or aborts.
func (w *writer) run(ctx context.Context) {
	defer close(w.done)
	defer w.recycle()
	defer w.cancel(nil)
	var (
		uploadID string
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		done     []completedPart
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			w.cancel(err)
		}
		mu.Unlock()
	}
	var last partMsg
	defer func() {
		if last.data != nil {
			putBuf(last.data)
		}
	}()
loop:
	for {
		select {
		case m := <-w.parts:
			if m.final {
				last = m
				break loop
			}
			if uploadID == "" {
				id, err := w.create(ctx)
				if err != nil {
					fail(err)
					break loop
				}
				uploadID = id
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := w.uploadPart(ctx, uploadID, m.num, m.data)
				w.free <- m.data
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				done = append(done, p)
				mu.Unlock()
			}()
		case <-ctx.Done():
			last = partMsg{final: true, abort: true}
			break loop
		}
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	if !failed() && !last.abort && uploadID == "" {
		// Everything fit in one part.
		w.result = w.put(ctx, last.data)
		if w.result == nil && ctx.Err() != nil {
			w.result = context.Cause(ctx)
		}
		return
	}
	if !failed() && !last.abort && len(last.data) > 0 {
		p, err := w.uploadPart(ctx, uploadID, last.num, last.data)
		if err != nil {
			fail(err)
		} else {
			mu.Lock()
			done = append(done, p)
			mu.Unlock()
		}
	}
	wg.Wait()
	mu.Lock()
	err := firstErr
	mu.Unlock()
	if err == nil && ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	if err == nil {
		sort.Slice(done, func(i, j int) bool { return done[i].PartNumber < done[j].PartNumber })
		err = w.complete(ctx, uploadID, done)
	}
	if err != nil {
		w.result = err
		if uploadID != "" {
			w.cleanupErr = w.abortUpload(context.WithoutCancel(ctx), uploadID)
		}
	}
}

func (w *writer) headers() http.Header {
	h := http.Header{}
	o := &w.opts
	writeHeaders(h, o.ContentType, o.ContentEncoding, o.ContentDisposition, o.ContentLanguage, o.CacheControl, o.Metadata)
	return h
}

func (w *writer) put(ctx context.Context, data []byte) error {
	h := w.headers()
	conditionalHeaders(h, w.opts.IfNotExist, w.opts.IfMatch)
	var attempts int
	_, _, err := w.d.c.doRead(ctx, &Request{Method: http.MethodPut, Bucket: w.d.name, Key: w.key, Header: h, Body: data, attempts: &attempts})
	if attempts > 1 && w.opts.IfNotExist && kind(err) == blob.ErrPreconditionFailed {
		// An earlier attempt may have written the object and lost its
		// answer: then the object is ours, byte for byte.
		sum := md5.Sum(data)
		if w.d.c.hasETag(ctx, w.d.name, w.key, `"`+hex.EncodeToString(sum[:])+`"`) {
			return nil
		}
	}
	return ifMatchMissing(err, w.opts.IfMatch)
}

// hasETag reports whether key exists with etag.
func (c *Client) hasETag(ctx context.Context, bucket, key, etag string) bool {
	h, _, err := c.doRead(ctx, &Request{Method: http.MethodHead, Bucket: bucket, Key: key})
	return err == nil && h.Get("ETag") == etag
}

// multipartETag is the ETag S3 gives the object completed from parts: the
// MD5 of the parts' binary MD5s, then "-" and the part count. It is ""
// when a part's ETag is not an MD5.
func multipartETag(parts []completedPart) string {
	d := md5.New()
	for _, p := range parts {
		b, err := hex.DecodeString(strings.Trim(p.ETag, `"`))
		if err != nil || len(b) != md5.Size {
			return ""
		}
		d.Write(b)
	}
	return fmt.Sprintf(`"%x-%d"`, d.Sum(nil), len(parts))
}

// annotate prefixes what to err's cause, keeping a *blob.Error's kind,
// code, status and request ID at the top of the chain.
func annotate(err error, what string) error {
	if be, ok := err.(*blob.Error); ok {
		c := *be
		c.Err = fmt.Errorf("%s: %w", what, be.Err)
		return &c
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ifMatchMissing turns the NoSuchKey some servers answer a conditional
// write on an absent key with into ErrPreconditionFailed: IfMatch promises
// that error whenever the object is not there with that ETag.
func ifMatchMissing(err error, ifMatch string) error {
	if ifMatch != "" && kind(err) == blob.ErrNotFound {
		d := errorDetail(err)
		return &blob.Error{Kind: blob.ErrPreconditionFailed, Code: d.Code, Status: d.Status, RequestID: d.RequestID, Err: err}
	}
	return err
}

type initiateResult struct {
	UploadID string `xml:"UploadId"`
}

func (w *writer) create(ctx context.Context) (string, error) {
	h := w.headers()
	if w.d.c.partChecksums() {
		h.Set("X-Amz-Checksum-Algorithm", "CRC32C")
	}
	_, body, err := w.d.c.doRead(ctx, &Request{Method: http.MethodPost, Bucket: w.d.name, Key: w.key, Query: url.Values{"uploads": {""}}, Header: h})
	if err != nil {
		return "", err
	}
	var res initiateResult
	if err := xml.Unmarshal(body, &res); err != nil || res.UploadID == "" {
		return "", blob.Errorf(blob.ErrInternal, "s3: CreateMultipartUpload: no upload ID in the response")
	}
	return res.UploadID, nil
}

func (w *writer) uploadPart(ctx context.Context, id string, num int, data []byte) (completedPart, error) {
	h := http.Header{}
	var sum string
	if w.d.c.partChecksums() {
		sum = crc32cBase64(data)
		h.Set("X-Amz-Checksum-Crc32c", sum)
	}
	q := url.Values{"partNumber": {strconv.Itoa(num)}, "uploadId": {id}}
	hdr, _, err := w.d.c.doRead(ctx, &Request{Method: http.MethodPut, Bucket: w.d.name, Key: w.key, Query: q, Header: h, Body: data, signedOnly: true})
	if err != nil {
		return completedPart{}, annotate(err, fmt.Sprintf("part %d", num))
	}
	return completedPart{PartNumber: num, ETag: hdr.Get("ETag"), ChecksumCRC32C: sum}, nil
}

type completeRequest struct {
	XMLName xml.Name        `xml:"CompleteMultipartUpload"`
	Parts   []completedPart `xml:"Part"`
}

func (w *writer) complete(ctx context.Context, id string, parts []completedPart) error {
	return w.d.c.completeUpload(ctx, w.d.name, w.key, id, parts, w.opts.IfNotExist, w.opts.IfMatch)
}

func (c *Client) completeUpload(ctx context.Context, bucket, key, id string, parts []completedPart, ifNotExist bool, ifMatch string) error {
	body, err := xml.Marshal(completeRequest{Parts: parts})
	if err != nil {
		return blob.Errorf(blob.ErrInternal, "s3: CompleteMultipartUpload: %v", err)
	}
	// Content-MD5, not a checksum header: on this call an
	// x-amz-checksum-* header would claim the whole object's checksum.
	h := http.Header{"Content-Type": {"application/xml"}, "Content-Md5": {contentMD5(body)}}
	conditionalHeaders(h, ifNotExist, ifMatch)
	var attempts int
	_, _, err = c.doRead(ctx, &Request{Method: http.MethodPost, Bucket: bucket, Key: key, Query: url.Values{"uploadId": {id}}, Header: h, Body: body, attempts: &attempts})
	var s3err *Error
	noUpload := errors.As(err, &s3err) && s3err.Code == "NoSuchUpload"
	if attempts > 1 && (noUpload || kind(err) == blob.ErrPreconditionFailed) {
		// An earlier attempt may have completed the upload and lost its
		// answer: the object then carries these parts' ETag.
		if etag := multipartETag(parts); etag != "" && c.hasETag(ctx, bucket, key, etag) {
			return nil
		}
	}
	if noUpload {
		return err
	}
	return ifMatchMissing(err, ifMatch)
}

func (w *writer) abortUpload(ctx context.Context, id string) error {
	return w.d.c.abortUpload(ctx, w.d.name, w.key, id)
}

func (c *Client) abortUpload(ctx context.Context, bucket, key, id string) error {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	_, _, err := c.doRead(ctx, &Request{Method: http.MethodDelete, Bucket: bucket, Key: key, Query: url.Values{"uploadId": {id}}})
	if kind(err) == blob.ErrNotFound {
		return nil
	}
	return err
}

// partChecksums reports whether parts carry a CRC32C: over https, where
// the payload is not signed, or when unsigned (anonymous). Over signed http
// the SHA-256 in the signature protects each part already.
func (c *Client) partChecksums() bool {
	return c.endpoint.Scheme == "https" || c.creds == nil
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

func putBuf(b []byte) {
	size := int64(cap(b))
	if size < MinPartSize {
		return
	}
	p, _ := bufPools.LoadOrStore(size, &sync.Pool{})
	b = b[:0]
	p.(*sync.Pool).Put(&b)
}

// recycle returns the writer's buffers to the pools once run is done with
// them: every part has finished by then.
func (w *writer) recycle() {
	for {
		select {
		case b := <-w.free:
			putBuf(b)
		default:
			return
		}
	}
}
