package aws

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/checksum"
	"github.com/anyblob/anyblob/internal/retry"
)

func (d *driver) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *blob.ReaderOptions) (blob.Reader, error) {
	key, err := d.k(key)
	if err != nil {
		return nil, err
	}
	enc := opts.Encryption
	if length == 0 {
		return d.emptyReader(ctx, key, opts.IfMatch, enc)
	}
	full := offset == 0 && length < 0
	resp, err := d.get(ctx, key, offset, length, opts.IfMatch, full, opts.BeforeRead, enc)
	if err != nil {
		var s3err *Error
		if errors.As(err, &s3err) && s3err.Status == http.StatusRequestedRangeNotSatisfiable {
			// The offset is at or past the end: an empty read, if the
			// object is there.
			return d.emptyReader(ctx, key, opts.IfMatch, enc)
		}
		return nil, customerKeyError(err, enc != nil)
	}
	a := attributesFrom(resp.Header)
	r := &reader{
		body:  resp.Body,
		attrs: blob.ReaderAttrs{ContentType: a.ContentType, ModTime: a.ModTime, ETag: a.ETag},
		pos:   offset,
		left:  resp.ContentLength,
	}
	if total, ok := parseContentRange(resp.Header.Get("Content-Range")); ok {
		r.attrs.Size = total
	} else {
		r.attrs.Size = offset + resp.ContentLength
	}
	if r.left < 0 {
		r.left = r.attrs.Size - offset
	}
	if length >= 0 {
		r.left = min(r.left, length)
	}
	if full {
		r.alg, r.want, r.crc = fullChecksum(resp.Header)
	}
	// The resumed request is pinned to the ETag of the first response, so
	// a changed object fails the read instead of being stitched together.
	etag := a.ETag
	r.reopen = func(pos, n int64) (io.ReadCloser, error) {
		if etag == "" {
			return nil, blob.Errorf(blob.ErrInternal, "s3: cannot resume a read without an ETag")
		}
		resp, err := d.get(ctx, key, pos, n, etag, false, nil, enc)
		if err != nil {
			return nil, err
		}
		return resp.Body, nil
	}
	r.ctxErr = ctx.Err
	r.again = func(n int, cause error) error { return d.c.retry.Again(ctx, n, cause) }
	if full && d.c.readOptions(opts.Concurrency).Worth(r.attrs.Size) && resp.StatusCode == http.StatusOK && etag != "" {
		return d.parallelize(ctx, key, r, enc, opts.Concurrency), nil
	}
	return r, nil
}

// get sends the GET of a read; hook (nil on resumed requests) is the
// caller's BeforeRead.
func (d *driver) get(ctx context.Context, key string, offset, length int64, ifMatch string, checksum bool, hook func(func(any) bool) error, enc *blob.Encryption) (*http.Response, error) {
	h := http.Header{}
	customerKeyHeaders(h, enc)
	switch {
	case length > 0:
		h.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		h.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	if ifMatch != "" {
		h.Set("If-Match", ifMatch)
	}
	if checksum {
		h.Set("X-Amz-Checksum-Mode", "ENABLED")
	}
	// Explicit, so no http.Client decompresses the object behind our back.
	h.Set("Accept-Encoding", "identity")
	req := &Request{Method: http.MethodGet, Bucket: d.name, Key: key, Header: h}
	if err := blob.CallHook(hook, blob.NativeAs(req)); err != nil {
		return nil, err
	}
	resp, err := d.c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if offset > 0 && resp.StatusCode != http.StatusPartialContent {
		// The server ignored the Range: skip to offset ourselves.
		if _, err := io.CopyN(io.Discard, resp.Body, offset); err != nil {
			resp.Body.Close()
			return nil, blob.Errorf(blob.ErrInternal, "s3: the server ignored the Range header and the body ended before offset %d: %v", offset, err)
		}
		if resp.ContentLength >= 0 {
			resp.ContentLength -= offset
		}
	}
	return resp, nil
}

func (d *driver) emptyReader(ctx context.Context, key, ifMatch string, enc *blob.Encryption) (blob.Reader, error) {
	h := http.Header{}
	if ifMatch != "" {
		h.Set("If-Match", ifMatch)
	}
	customerKeyHeaders(h, enc)
	hdr, _, err := d.c.doRead(ctx, &Request{Method: http.MethodHead, Bucket: d.name, Key: key, Header: h})
	if err != nil {
		return nil, customerKeyError(err, enc != nil)
	}
	a := attributesFrom(hdr)
	size, _ := strconv.ParseInt(hdr.Get("Content-Length"), 10, 64)
	return &reader{body: emptyBody(), attrs: blob.ReaderAttrs{Size: size, ContentType: a.ContentType, ModTime: a.ModTime, ETag: a.ETag}}, nil
}

// fullChecksum returns the full-object checksum the server reported
// (CRC64NVME, CRC32C or SHA256, in that order of preference), and a hash
// to check it with; nil when there is none (composite checksums of
// multipart uploads cover parts, not the object).
func fullChecksum(h http.Header) (blob.ChecksumAlgorithm, string, hash.Hash) {
	if strings.EqualFold(h.Get("X-Amz-Checksum-Type"), "COMPOSITE") {
		return "", "", nil
	}
	for _, alg := range []blob.ChecksumAlgorithm{blob.ChecksumCRC64NVME, blob.ChecksumCRC32C, blob.ChecksumSHA256} {
		if sum := h.Get(sumHeader(alg)); sum != "" && !strings.Contains(sum, "-") {
			return alg, sum, checksum.New(alg)
		}
	}
	return "", "", nil
}

// checksumsFrom reads the full-object checksums of HEAD or GET headers
// (asked for with x-amz-checksum-mode), and the MD5 a one-part object's
// ETag is.
func checksumsFrom(h http.Header, md5 []byte) map[blob.ChecksumAlgorithm][]byte {
	var out map[blob.ChecksumAlgorithm][]byte
	add := func(alg blob.ChecksumAlgorithm, sum []byte) {
		if out == nil {
			out = map[blob.ChecksumAlgorithm][]byte{}
		}
		out[alg] = sum
	}
	if !strings.EqualFold(h.Get("X-Amz-Checksum-Type"), "COMPOSITE") {
		for _, alg := range []blob.ChecksumAlgorithm{blob.ChecksumCRC64NVME, blob.ChecksumCRC32C, blob.ChecksumSHA256} {
			if v := h.Get(sumHeader(alg)); v != "" && !strings.Contains(v, "-") {
				if sum, err := base64.StdEncoding.DecodeString(v); err == nil {
					add(alg, sum)
				}
			}
		}
	}
	if md5 != nil {
		add(blob.ChecksumMD5, md5)
	}
	return out
}

// reader reads a GET response body, resuming where it stopped when the
// connection fails mid-body.
type reader struct {
	body   io.ReadCloser
	attrs  blob.ReaderAttrs
	pos    int64 // absolute offset of the next byte
	left   int64 // bytes still to read
	reopen func(pos, n int64) (io.ReadCloser, error)
	ctxErr func() error                   // the read's ctx.Err
	again  func(n int, cause error) error // retry.Retrier.Again for resume n
	failed int                            // resumes so far

	alg  blob.ChecksumAlgorithm // of want
	want string                 // the full-object checksum to verify, base64
	crc  hash.Hash              // its running hash, when want is set
	err  error                  // sticky error
}

func (r *reader) Attrs() blob.ReaderAttrs { return r.attrs }

func (r *reader) As(target any) bool { return false }

func (r *reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.left <= 0 {
		return 0, r.finish()
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	for {
		n, err := r.body.Read(p)
		if n > 0 {
			r.pos += int64(n)
			r.left -= int64(n)
			if r.crc != nil {
				r.crc.Write(p[:n])
			}
		}
		if r.left <= 0 {
			return n, nil
		}
		if err == nil {
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err == io.EOF {
			// The body ended before the bytes it promised.
			err = io.ErrUnexpectedEOF
		}
		if rerr := r.resume(err); rerr != nil {
			r.err = rerr
			if n > 0 {
				return n, nil
			}
			return 0, rerr
		}
		if n > 0 {
			return n, nil
		}
	}
}

// resume reopens the body at r.pos after cause broke it.
func (r *reader) resume(cause error) error {
	r.body.Close()
	if r.reopen == nil || r.ctxErr() != nil {
		return cause
	}
	for {
		r.failed++
		if err := r.again(r.failed, cause); err == retry.ErrStop {
			return fmt.Errorf("s3: read failed at byte %d after %d attempts: %w", r.pos, r.failed, cause)
		} else if err != nil {
			return err
		}
		body, err := r.reopen(r.pos, r.left)
		if err == nil {
			r.body = body
			return nil
		}
		if kind(err) != blob.ErrThrottled && kind(err) != blob.ErrInternal || r.ctxErr() != nil {
			return err
		}
		cause = err
	}
}

func (r *reader) finish() error {
	if r.crc != nil {
		got := checksum.Base64(r.crc.Sum(nil))
		r.crc = nil
		if got != r.want {
			r.err = blob.Errorf(blob.ErrInternal, "s3: checksum mismatch: object %s is %s, read data has %s", r.alg, r.want, got)
			return r.err
		}
	}
	return io.EOF
}

func (r *reader) Close() error {
	r.err = errClosed
	return r.body.Close()
}

var errClosed = blob.Errorf(blob.ErrInvalidArgument, "s3: read after Close")

type failedBody struct{ err error }

func (f failedBody) Read([]byte) (int, error) { return 0, f.err }
func (f failedBody) Close() error             { return nil }

// copyBufs are WriteTo's buffers: larger than io.Copy's, fewer calls.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// WriteTo copies the rest of the object to w, resuming as Read does.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
			if m < n {
				return total, io.ErrShortWrite
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
