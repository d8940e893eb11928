package azure

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"hash"
	"io"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/pread"
	"github.com/anyblob/anyblob/internal/retry"
)

// NewRangeReader reads with Get Blob; its first response describes the
// whole blob (Content-Range gives the total size).
//
// What is verified: a full read (offset 0, to the end) is checked against
// the blob's Content-MD5, which every blob this package writes has (see
// NewWriter); a blob written elsewhere without one is read unverified. A
// range is read in windows of at most 4 MiB, the most the service sends an
// MD5 for (x-ms-range-get-content-md5), and every window is checked
// against its own MD5, so a corrupted range fails within 4 MiB of the bad
// byte; the windows after the first are pinned to the first one's ETag
// (If-Match), so a blob replaced meanwhile fails the read with
// ErrPreconditionFailed instead of being stitched together. A mismatch is
// ErrInternal, returned by the Read that reaches the window's end.
//
// A full read of a large blob may go parallel (see the package doc and
// internal/pread): ranges over several connections, each a verified window
// pinned to the first answer's ETag, in order, and the whole stream
// checked against the Content-MD5.
//
// A body cut short (a reset, a truncation) resumes from the last byte read,
// pinned to the ETag, as Options.Retry allows. IfMatch goes on the first
// request. A range starting at or past the end (416 InvalidRange) and a
// zero length look at the properties instead and read nothing. BeforeRead
// reaches the *azblobblob.DownloadStreamOptions of the first request; the
// windows after it copy them.
func (d *driver) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *blob.ReaderOptions) (blob.Reader, error) {
	bc := d.cc.NewBlobClient(stored(key))
	var ac *azblobblob.AccessConditions
	if opts.IfMatch != "" {
		e := azcore.ETag(opts.IfMatch)
		ac = &azblobblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{IfMatch: &e}}
	}
	customer := cpk(opts.Encryption)
	empty := func() (blob.Reader, error) {
		p, err := bc.GetProperties(ctx, &azblobblob.GetPropertiesOptions{AccessConditions: ac, CPKInfo: customer})
		if err != nil {
			return nil, err
		}
		return &reader{attrs: blob.ReaderAttrs{
			Size: deref(p.ContentLength), ContentType: deref(p.ContentType), ModTime: deref(p.LastModified), ETag: etag(p.ETag),
		}}, nil
	}
	if length == 0 {
		return empty()
	}
	o := &azblobblob.DownloadStreamOptions{
		Range:            azblobblob.HTTPRange{Offset: offset}, // 0 and 0: no Range header, a plain full read
		AccessConditions: ac,
		CPKInfo:          customer,
	}
	whole := offset == 0 && length < 0
	if !whole {
		o.Range.Count = maxRangeMD5
		if length > 0 {
			o.Range.Count = min(length, maxRangeMD5)
		}
		o.RangeGetContentMD5 = to.Ptr(true)
	}
	if err := blob.CallHook(opts.BeforeRead, blob.NativeAs(o)); err != nil {
		return nil, err
	}
	resp, err := bc.DownloadStream(ctx, o)
	if err != nil {
		if bloberrorCode(err) == "InvalidRange" {
			return empty()
		}
		return nil, err
	}
	size := deref(resp.ContentLength)
	if cr := deref(resp.ContentRange); cr != "" {
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				size = n
			}
		}
	}
	attrs := blob.ReaderAttrs{Size: size, ContentType: deref(resp.ContentType), ModTime: deref(resp.LastModified), ETag: etag(resp.ETag)}
	ro := d.c.read
	if opts.Concurrency > 0 {
		ro.Concurrency = opts.Concurrency
	}
	// A full read that may go parallel is checked by internal/pread as one
	// stream or in parts, so its first answer is not hashed twice.
	par := whole && resp.ETag != nil && ro.Worth(size)
	body := d.checked(ctx, resp, (o.RangeGetContentMD5 != nil && *o.RangeGetContentMD5 || whole) && !par)
	// window fetches n bytes at off, pinned to the first answer's ETag and
	// verified by their own MD5.
	window := func(ctx context.Context, off, n int64) (io.ReadCloser, error) {
		w := *o
		w.Range = azblobblob.HTTPRange{Offset: off, Count: n}
		w.RangeGetContentMD5 = to.Ptr(true)
		w.AccessConditions = &azblobblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{IfMatch: resp.ETag}}
		if o.AccessConditions != nil {
			w.AccessConditions.LeaseAccessConditions = o.AccessConditions.LeaseAccessConditions
		}
		r, err := bc.DownloadStream(ctx, &w)
		if err != nil {
			return nil, err
		}
		return d.checked(ctx, r, true), nil
	}
	if par {
		p := d.parallel(ctx, body, size, window, resp.ContentMD5, ro)
		return &parallelReader{reader: &reader{body: p, resp: &resp, attrs: attrs}, p: p}, nil
	}
	if !whole {
		end := size
		if length > 0 {
			end = min(size, offset+length)
		}
		if next := offset + deref(resp.ContentLength); next < end && resp.ETag != nil {
			body = &windows{cur: body, pos: next, end: end, fetch: func(off, n int64) (io.ReadCloser, error) { return window(ctx, off, n) }}
		}
	}
	return &reader{body: body, resp: &resp, attrs: attrs}, nil
}

// parallel is a full read whose first answer is first: a read that goes
// parallel (internal/pread) when one connection is the limit, fetching
// parts as ranges of at most 4 MiB windows, each verified by its own MD5
// and pinned to the first answer's ETag; the whole stream is then checked
// against the blob's Content-MD5 (wholeMD5) when it has one, whether the
// read goes parallel or stays the one stream first (which the caller has
// not wrapped in a check of its own).
func (d *driver) parallel(ctx context.Context, first io.ReadCloser, size int64,
	window func(ctx context.Context, off, n int64) (io.ReadCloser, error), wholeMD5 []byte, ro pread.Options) *pread.Reader {
	var check *pread.Check
	if len(wholeMD5) == md5.Size {
		check = &pread.Check{Hash: md5.New(), Stream: true, Verify: func(got []byte) error { return md5Mismatch(wholeMD5, got) }}
	}
	fetch := func(ctx context.Context, off int64, buf []byte) error {
		end := off + int64(len(buf))
		n := min(end-off, maxRangeMD5)
		cur, err := window(ctx, off, n)
		if err != nil {
			return err
		}
		var body io.ReadCloser = cur
		if off+n < end {
			body = &windows{cur: cur, pos: off + n, end: end, fetch: func(off, n int64) (io.ReadCloser, error) { return window(ctx, off, n) }}
		}
		defer body.Close()
		_, err = io.ReadFull(body, buf)
		return err
	}
	return pread.New(ctx, first, size, fetch, check, ro)
}

// md5Mismatch is nil when got is want, else the ErrInternal of a read
// whose bytes are not the ones the service sent an MD5 for.
func md5Mismatch(want, got []byte) error {
	if bytes.Equal(got, want) {
		return nil
	}
	return blob.Errorf(blob.ErrInternal, "azblob: checksum mismatch: the service sent Content-MD5 %s for these bytes, the data read has %s",
		base64.StdEncoding.EncodeToString(want), base64.StdEncoding.EncodeToString(got))
}

// checked is resp's body, resumed when cut short, and verified against the
// Content-MD5 that came with it when it applies: the whole blob's for a
// full read, the range's when the request asked for it (ownMD5); a plain
// range read's Content-MD5, if any, is not its own.
func (d *driver) checked(ctx context.Context, resp azblobblob.DownloadStreamResponse, ownMD5 bool) io.ReadCloser {
	// The SDK's retry reader resumes a body cut short from the byte it
	// reached, pinned to the blob's ETag with If-Match: a blob replaced
	// meanwhile fails the read instead of being stitched together. The
	// waits between attempts are the shared policy's.
	var body io.ReadCloser = resp.NewRetryReader(ctx, &azblobblob.RetryReaderOptions{
		MaxRetries:        int32(d.c.retry.MaxAttempts() - 1),
		EarlyCloseAsError: true,
		OnFailedRead: func(failures int32, _ error, _ azblobblob.HTTPRange, willRetry bool) {
			if willRetry {
				_ = retry.Sleep(ctx, d.c.retry.Backoff(int(failures)))
			}
		},
	})
	if ownMD5 && len(resp.ContentMD5) == md5.Size {
		body = &md5Checked{rc: body, want: resp.ContentMD5, h: md5.New()}
	}
	return body
}

// maxRangeMD5 is the largest range the service sends an MD5 for.
const maxRangeMD5 = 4 << 20

// windows reads a range as successive verified windows of at most
// maxRangeMD5 bytes: cur is the window being read, pos the offset of the
// next one, end the range's end.
type windows struct {
	cur      io.ReadCloser
	pos, end int64
	fetch    func(off, n int64) (io.ReadCloser, error)
	err      error
}

func (w *windows) Read(p []byte) (int, error) {
	for w.err == nil {
		n, err := w.cur.Read(p)
		if err != io.EOF {
			if err != nil {
				w.err = err
			}
			return n, err
		}
		if w.pos >= w.end {
			return n, io.EOF
		}
		w.cur.Close()
		w.cur, w.err = w.fetch(w.pos, min(w.end-w.pos, maxRangeMD5))
		if w.err != nil {
			w.cur = io.NopCloser(strings.NewReader(""))
			return n, w.err
		}
		w.pos += min(w.end-w.pos, maxRangeMD5)
		if n > 0 {
			return n, nil
		}
	}
	return 0, w.err
}

func (w *windows) Close() error { return w.cur.Close() }

// md5Checked verifies a whole blob or a range against the Content-MD5 the
// service sent for it: at the end of the body, a mismatch fails the read
// with ErrInternal instead of io.EOF. The bytes before the end have been
// handed over already; a caller that must not act on bad data reads to the
// end (ReadAll, Download) before using it.
//
// It hashes in Read, as the caller reads. A hasher on a goroutine of its
// own would overlap MD5 with the copy out of the socket, but it costs a
// copy of every piece and a third busy thread: measured on two cores with
// the server beside it (bench/, BenchmarkAzureDownload), it was a fifth
// slower than hashing inline, and the kernel goes on receiving into the
// socket's buffer while Read hashes anyway.
type md5Checked struct {
	rc   io.ReadCloser
	want []byte
	h    hash.Hash
	err  error
}

func (m *md5Checked) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	n, err := m.rc.Read(p)
	m.h.Write(p[:n])
	if err == io.EOF {
		if m.err = md5Mismatch(m.want, m.h.Sum(nil)); m.err != nil {
			return n, m.err
		}
	}
	return n, err
}

func (m *md5Checked) Close() error { return m.rc.Close() }

type reader struct {
	body  io.ReadCloser // nil for an empty read
	resp  *azblobblob.DownloadStreamResponse
	attrs blob.ReaderAttrs
}

func (r *reader) Read(p []byte) (int, error) {
	if r.body == nil {
		return 0, io.EOF
	}
	return r.body.Read(p)
}

func (r *reader) Close() error {
	if r.body == nil {
		return nil
	}
	return r.body.Close()
}

// parallelReader is a full read that may go parallel: a reader that also
// writes its parts into an io.WriterAt as they come (blob.DownloadAt).
type parallelReader struct {
	*reader
	p *pread.Reader
}

func (r *parallelReader) WriteAtTo(w io.WriterAt) (int64, error) { return r.p.WriteAtTo(w) }

// WriteTo hands a parallel read's parts to w without another copy.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := r.body.(io.WriterTo); ok {
		return wt.WriteTo(w)
	}
	return io.Copy(w, struct{ io.Reader }{r})
}

func (r *reader) Attrs() blob.ReaderAttrs { return r.attrs }

// As exposes **azblobblob.DownloadStreamResponse.
func (r *reader) As(target any) bool {
	if p, ok := target.(**azblobblob.DownloadStreamResponse); ok && r.resp != nil {
		*p = r.resp
		return true
	}
	return false
}
