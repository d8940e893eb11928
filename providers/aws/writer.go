package aws

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/checksum"
	"github.com/anyblob/anyblob/internal/retry"
	"github.com/anyblob/anyblob/internal/upload"
)

// s3Limits are S3's multipart limits, for the upload engine.
var s3Limits = upload.Limits{Service: "S3", MinPart: MinPartSize, MaxPart: MaxPartSize, MaxParts: MaxParts, MaxObject: MaxObjectSize}

// NewWriter starts a write through the shared upload engine
// (internal/upload): an object that fits in the first part is sent with
// one PutObject at Close, from a buffer that grows with the data; a larger
// one becomes a multipart upload whose parts are sent while the caller keeps
// writing, at most Concurrency at once, through at most Concurrency reused
// buffers. Part sizes grow so that a stream of unknown size up to 5 TiB fits
// in 10,000 parts; past that, Write fails with ErrInvalidArgument. Any
// failure, Abort, or cancelation of ctx aborts the multipart upload, and the
// write reports the first failure.
//
// PartSize below MinPartSize is raised to it; above MaxPartSize it is
// lowered to it.
//
// What is verified: a single PutObject carries the object's CRC32C, which
// the service checks and stores. A multipart upload asks for a full-object
// CRC32C (x-amz-checksum-type FULL_OBJECT): every part carries its own
// CRC32C, which the service checks, the object's CRC32C is joined from
// the parts' (internal/checksum.Combine, no byte read again) and sent
// with the commit, and the service checks it against the parts it
// combines. Over http a part's SHA-256, which the signature covers, is
// taken in the same pass over its bytes as its CRC32C: each byte of a
// file is read twice, once to hash and once to send. Either way the object has a
// CRC32C of its whole content, which full reads verify (see
// NewRangeReader).
func (d *driver) NewWriter(ctx context.Context, key string, opts *blob.WriterOptions) (blob.Writer, error) {
	size := opts.PartSize
	if size == 0 {
		size = d.c.partSize
	}
	conc, most := opts.Concurrency, 0
	if conc == 0 {
		conc = d.c.conc
		if d.c.growWrites || d.c.writeTarget > 0 {
			most = upload.DefaultMaxSectionConcurrency
		}
	}
	stored, err := d.writeKey(ctx, key, opts.IfNotExist || opts.IfMatch != "")
	if err != nil {
		return nil, err
	}
	sum, withMD5 := opts.Checksum, false
	switch def := d.c.defaultSum(); {
	case sum == "":
		sum = def
	case def == blob.ChecksumMD5 && sum != blob.ChecksumMD5:
		p := d.c.knownProfile()
		return nil, blob.Errorf(blob.ErrNotImplemented, "s3: %s takes no x-amz-checksum-* header (profile %s), so a %s checksum cannot be sent; MD5 can", d.c.serverName(p), p.name, sum)
	case sum == blob.ChecksumMD5 && def != blob.ChecksumMD5:
		// Every body carries its Content-MD5, and the object keeps its
		// full CRC32C as well, so that every full read is verified.
		sum, withMD5 = def, true
	}
	if err := sseHeaders(http.Header{}, opts.Encryption, false); err != nil {
		return nil, err
	}
	limits := s3Limits
	limits.MaxParts = d.c.maxParts()
	t := &writer{d: d, key: stored, opts: *opts, sum: sum, withMD5: withMD5, full: checksum.Combinable(sum)}
	equal := false
	if p := d.c.knownProfile(); p != nil {
		equal = p.equalParts
	}
	return &uploadWriter{Writer: upload.New(ctx, t, upload.Config{PartSize: size, Concurrency: conc, MaxSectionConcurrency: most, Limits: limits,
		Target: d.c.writeTarget, EqualParts: equal})}, nil
}

// uploadWriter is the engine's Writer as a blob.Writer.
type uploadWriter struct{ *upload.Writer }

func (w *uploadWriter) As(any) bool { return false }

func (c *Client) maxParts() int {
	if c.partLimit > 0 {
		return c.partLimit
	}
	return MaxParts
}

// setChecksum puts a part's checksum of alg in its field; MD5 (sent as
// Content-MD5) has none.
func (p *completedPart) setChecksum(alg blob.ChecksumAlgorithm, sum string) {
	switch alg {
	case blob.ChecksumCRC32C:
		p.ChecksumCRC32C = sum
	case blob.ChecksumCRC64NVME:
		p.ChecksumCRC64NVME = sum
	case blob.ChecksumSHA256:
		p.ChecksumSHA256 = sum
	}
}

// checksum is the part's checksum, whichever field holds it.
func (p *completedPart) checksum() string {
	return p.ChecksumCRC32C + p.ChecksumCRC64NVME + p.ChecksumSHA256
}

type completedPart struct {
	XMLName           xml.Name `xml:"Part"`
	PartNumber        int      `xml:"PartNumber"`
	ETag              string   `xml:"ETag"`
	ChecksumCRC32C    string   `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string   `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA256    string   `xml:"ChecksumSHA256,omitempty"`
}

// writer is one object as the upload engine's Target: PutObject for a
// small object, a multipart upload (session) for a large one.
type writer struct {
	d    *driver
	key  string
	opts blob.WriterOptions
	sum  blob.ChecksumAlgorithm // the checksum every body carries
	// withMD5: every body carries its Content-MD5 too.
	withMD5 bool
	// full: a multipart upload sends the whole object's checksum, a CRC
	// (CRC32C or CRC64NVME) joined from its parts' (checksum.Combine), so
	// no byte is read for it again; false for SHA256 (composite on
	// multipart) and MD5 (per request only).
	full bool
}

// session is one multipart upload of w.
type session struct {
	w  *writer
	id string

	mu    sync.Mutex
	sizes map[int]int64 // each part's size, by number, to join their CRCs
}

// Start implements upload.Target: CreateMultipartUpload.
func (w *writer) Start(ctx context.Context) (upload.Session, error) {
	id, err := w.create(ctx)
	if err != nil {
		return nil, err
	}
	return &session{w: w, id: id, sizes: map[int]int64{}}, nil
}

// Put implements upload.Target: PutObject.
func (w *writer) Put(ctx context.Context, data []byte) error {
	return w.d.wrote(w.key, w.put(ctx, data))
}

// Part implements upload.Session: UploadPart.
func (s *session) Part(ctx context.Context, num int, data []byte) (upload.Part, error) {
	s.sized(num, int64(len(data)))
	p, err := s.w.uploadPart(ctx, s.id, num, data)
	return upload.Part{Num: num, ETag: p.ETag, Checksum: p.checksum()}, err
}

// sized records part num's size.
func (s *session) sized(num int, n int64) {
	s.mu.Lock()
	s.sizes[num] = n
	s.mu.Unlock()
}

// PartFrom implements upload.SectionSession: UploadPart read from a
// section of the caller's file or buffer as it is sent.
func (s *session) PartFrom(ctx context.Context, num int, section *io.SectionReader) (upload.Part, error) {
	s.sized(num, section.Size())
	p, err := s.w.sendPart(ctx, s.id, num, &Request{section: section})
	return upload.Part{Num: num, ETag: p.ETag, Checksum: p.checksum()}, err
}

// Complete implements upload.Session: CompleteMultipartUpload.
func (s *session) Complete(ctx context.Context, parts []upload.Part) error {
	done := make([]completedPart, len(parts))
	for i, p := range parts {
		done[i] = completedPart{PartNumber: p.Num, ETag: p.ETag}
		done[i].setChecksum(s.w.sum, p.Checksum)
	}
	full := ""
	if s.w.full {
		sum, err := s.joined(parts)
		if err != nil {
			return err
		}
		full = checksum.Base64(sum)
	}
	err := s.w.d.c.completeUpload(ctx, s.w.d.name, s.w.key, s.id, done, s.w.opts.IfNotExist, s.w.opts.IfMatch, s.w.sum, full, s.w.opts.Encryption)
	return s.w.d.wrote(s.w.key, err)
}

// joined is the whole object's checksum: its parts' CRCs, joined in
// order. Each part's CRC was computed from the bytes sent, and the
// service checked it against the bytes that arrived, so the join is the
// CRC of the object the parts make; the service checks it once more at
// the commit.
func (s *session) joined(parts []upload.Part) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum []byte
	for i, p := range parts {
		b, err := base64.StdEncoding.DecodeString(p.Checksum)
		if err != nil || len(b) == 0 {
			return nil, blob.Errorf(blob.ErrInternal, "s3: part %d has no %s to join", p.Num, s.w.sum)
		}
		if i == 0 {
			sum = b
			continue
		}
		sum = checksum.Combine(s.w.sum, sum, b, s.sizes[p.Num])
	}
	return sum, nil
}

// Abort implements upload.Session: AbortMultipartUpload.
func (s *session) Abort(ctx context.Context) error {
	return s.w.d.c.abortUpload(ctx, s.w.d.name, s.w.key, s.id)
}

func (w *writer) headers() http.Header {
	h := http.Header{}
	o := &w.opts
	writeHeaders(h, o.ContentType, o.ContentEncoding, o.ContentDisposition, o.ContentLanguage, o.CacheControl, o.Metadata)
	if o.StorageClass != "" {
		h.Set("X-Amz-Storage-Class", o.StorageClass)
	}
	if len(o.Tags) > 0 {
		h.Set("X-Amz-Tagging", tagHeader(o.Tags))
	}
	_ = sseHeaders(h, o.Encryption, false) // checked by NewWriter
	return h
}

func (w *writer) put(ctx context.Context, data []byte) error {
	h := w.headers()
	conditionalHeaders(h, w.opts.IfNotExist, w.opts.IfMatch)
	var attempts int
	req := &Request{Method: http.MethodPut, Bucket: w.d.name, Key: w.key, Header: h, Body: data, attempts: &attempts, checksum: w.sum, contentMD5: w.withMD5}
	if err := blob.CallHook(w.opts.BeforeWrite, blob.NativeAs(req)); err != nil {
		return err
	}
	_, _, err := w.d.c.doRead(ctx, req)
	if attempts > 1 && (w.opts.IfNotExist || w.opts.IfMatch != "") && kind(err) == blob.ErrPreconditionFailed {
		// An earlier attempt may have written the object and lost its
		// answer: then the object is ours, byte for byte (its ETag is our
		// content's MD5), and the write succeeded.
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
	switch w.sum {
	case blob.ChecksumCRC32C, blob.ChecksumCRC64NVME:
		h.Set("X-Amz-Checksum-Algorithm", string(w.sum))
		h.Set("X-Amz-Checksum-Type", "FULL_OBJECT")
	case blob.ChecksumSHA256:
		h.Set("X-Amz-Checksum-Algorithm", string(w.sum))
		h.Set("X-Amz-Checksum-Type", "COMPOSITE") // S3 has no full-object SHA-256 of parts
	}
	req := &Request{Method: http.MethodPost, Bucket: w.d.name, Key: w.key, Query: url.Values{"uploads": {""}}, Header: h}
	if err := blob.CallHook(w.opts.BeforeWrite, blob.NativeAs(req)); err != nil {
		return "", err
	}
	return w.d.c.createUpload(ctx, req)
}

// strayMargin is how long before a CreateMultipartUpload's first attempt
// an upload of the same key may have been initiated and still be taken
// for one of its lost attempts (clocks differ by that much).
const strayMargin = 2 * time.Second

// createUpload sends CreateMultipartUpload req and returns the upload ID.
// An attempt whose answer was lost may have created an upload whose ID
// no one will ever know, which would stay (and be billed) until a
// lifecycle rule removes it. So when req was sent more than once, or its
// last attempt got no answer (ctx ended while it was in flight, or the
// connection failed), the uploads of the same key initiated since the
// first attempt (less strayMargin) are aborted, except the one returned. The cost: a writer in
// another process that starts an upload of the same key within that
// moment loses it and fails with ErrNotFound (NoSuchUpload); it never
// leaves a wrong object.
func (c *Client) createUpload(ctx context.Context, req *Request) (string, error) {
	var attempts int
	req.attempts = &attempts
	start := c.clock()
	_, body, err := c.doRead(ctx, req)
	id := ""
	if err == nil {
		var res initiateResult
		if xerr := xml.Unmarshal(body, &res); xerr != nil || res.UploadID == "" {
			err = blob.Errorf(blob.ErrInternal, "s3: CreateMultipartUpload: no upload ID in the response")
		}
		id = res.UploadID
	}
	// An upload may also exist that this call never learnt of when the
	// last attempt got no answer: the caller gave up (ctx ended) while it
	// was in flight, or the connection failed after it was sent.
	var answer *Error
	unanswered := err != nil && attempts > 0 && !errors.As(err, &answer)
	if attempts > 1 || unanswered {
		// A request the caller abandoned may still be on its way to
		// the server, which registers the upload after this look:
		// look again a little later.
		var later []time.Duration
		if unanswered && ctx.Err() != nil {
			later = strayLooks
		}
		c.abortStrays(ctx, req.Bucket, req.Key, id, start.Add(-strayMargin), later...)
	}
	return id, err
}

// strayLooks are the pauses before the further looks for stray uploads
// after an abandoned CreateMultipartUpload.
var strayLooks = []time.Duration{250 * time.Millisecond, time.Second}

// abortStrays aborts the uploads of key initiated at or after since,
// except keep, as far as it can (a failure leaves them to a lifecycle
// rule, as before); it looks once, and again after each pause of later.
func (c *Client) abortStrays(ctx context.Context, bucket, key, keep string, since time.Time, later ...time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), upload.CleanupTimeout)
	defer cancel()
	for i := 0; i <= len(later); i++ {
		if i > 0 && retry.Sleep(ctx, later[i-1]) != nil {
			return
		}
		ups, err := c.ListMultipartUploads(ctx, bucket, key)
		if err != nil {
			continue
		}
		for _, u := range ups {
			if u.Key == key && u.UploadID != keep && !u.Initiated.Before(since) {
				_ = c.abortUpload(ctx, bucket, key, u.UploadID)
			}
		}
	}
}

func (w *writer) uploadPart(ctx context.Context, id string, num int, data []byte) (completedPart, error) {
	return w.sendPart(ctx, id, num, &Request{Body: data})
}

// sendPart sends UploadPart with body's Body or section.
func (w *writer) sendPart(ctx context.Context, id string, num int, body *Request) (completedPart, error) {
	// Every part carries its CRC32C, over http too (where the signature
	// also covers it): a full-object checksum is combined from them. On a
	// server that takes no CRC32C, its MD5. Over http the body's SHA-256,
	// which the signature needs, is taken in the same pass.
	c := w.d.c
	signed := c.creds != nil && c.endpoint.Scheme == "http"
	sha, sum, md5sum, err := body.bodySums(signed, w.sum, w.withMD5)
	if err != nil {
		return completedPart{}, err
	}
	h := http.Header{sumHeader(w.sum): {sum}}
	if w.withMD5 {
		h.Set("Content-Md5", md5sum)
	}
	customerKeyHeaders(h, w.opts.Encryption) // SSE-C: every part carries the key
	q := url.Values{"partNumber": {strconv.Itoa(num)}, "uploadId": {id}}
	req := &Request{Method: http.MethodPut, Bucket: w.d.name, Key: w.key, Query: q, Header: h, Body: body.Body, section: body.section, signedOnly: true, payloadSHA: sha}
	hdr, _, err := c.doRead(ctx, req)
	if err != nil {
		return completedPart{}, annotate(err, fmt.Sprintf("part %d", num))
	}
	p := completedPart{PartNumber: num, ETag: hdr.Get("ETag")}
	p.setChecksum(w.sum, sum)
	return p, nil
}

type completeRequest struct {
	XMLName xml.Name        `xml:"CompleteMultipartUpload"`
	Parts   []completedPart `xml:"Part"`
}

// completeUpload commits upload id. full, when set, is the whole object's
// checksum of algorithm alg (base64) of an upload created with
// FULL_OBJECT; the service checks it against the parts.
func (c *Client) completeUpload(ctx context.Context, bucket, key, id string, parts []completedPart, ifNotExist bool, ifMatch string, alg blob.ChecksumAlgorithm, full string, enc *blob.Encryption) error {
	body, err := xml.Marshal(completeRequest{Parts: parts})
	if err != nil {
		return blob.Errorf(blob.ErrInternal, "s3: CompleteMultipartUpload: %v", err)
	}
	// Content-MD5 protects the request body; on this call an
	// x-amz-checksum-* header is the whole object's checksum.
	h := http.Header{"Content-Type": {"application/xml"}, "Content-Md5": {contentMD5(body)}}
	if full != "" {
		h.Set(sumHeader(alg), full)
		h.Set("X-Amz-Checksum-Type", "FULL_OBJECT")
	}
	customerKeyHeaders(h, enc)
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

func (c *Client) abortUpload(ctx context.Context, bucket, key, id string) error {
	ctx, cancel := context.WithTimeout(ctx, upload.CleanupTimeout)
	defer cancel()
	_, _, err := c.doRead(ctx, &Request{Method: http.MethodDelete, Bucket: bucket, Key: key, Query: url.Values{"uploadId": {id}}})
	if kind(err) == blob.ErrNotFound {
		return nil
	}
	return err
}
