package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/checksum"
	"github.com/anyblob/anyblob/internal/events"
	"github.com/anyblob/anyblob/internal/retry"
)

// Options configure a Client. Only Region is required (with Credentials or
// Anonymous); everything else has a default. Options are read once, by New:
// nothing here reads the environment (see FromEnv and the s3:// opener).
type Options struct {
	// Region is the AWS region requests are signed for ("us-east-1").
	// Required.
	Region string
	// Endpoint is the service's base URL, "https://host[:port]" or, for an
	// explicit endpoint only, "http://host[:port]". "" means AWS S3 itself,
	// https://s3.REGION.amazonaws.com.
	Endpoint string
	// UsePathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key. Path style is also used, whatever this says,
	// for an endpoint whose host is an IP address or "localhost", and for
	// bucket names with dots over https (a virtual host would not match
	// the certificate).
	UsePathStyle bool
	// Credentials sign every request; they are retrieved for each request,
	// so a refreshing source (auth/awscred's chain) keeps working. nil is an
	// error unless Anonymous is set.
	Credentials sigv4.CredentialsSource
	// Anonymous sends requests unsigned, for public buckets.
	Anonymous bool
	// HTTPClient sends the requests; nil means a client tuned for object
	// transfers (many idle connections per host, no transparent gzip).
	HTTPClient *http.Client
	// Retry bounds retries (blob.RetryPolicy: the rules every provider
	// shares); the zero value means the defaults.
	Retry RetryPolicy
	// StallTimeout is how long a request may go without progress (no
	// response headers, no request or response body bytes moving) before
	// the attempt is abandoned and retried. 0 means 60s.
	StallTimeout time.Duration
	// PartSize is the default part size of writers (WriterOptions.PartSize
	// overrides it); 0 means 8 MiB. It must be between MinPartSize and
	// MaxPartSize.
	PartSize int64
	// Concurrency is the default number of parts a writer uploads at once;
	// 0 means 8.
	Concurrency int
	// ReadConcurrency is the most parts a full read of a large object
	// fetches at once, over as many connections (see NewRangeReader): it
	// starts with 12 and allows more while the rate grows; 0 means
	// DefaultReadConcurrency, 1 reads every object in one stream.
	ReadConcurrency int
	// ReadPartSize is the size of those parts; 0 means
	// DefaultReadPartSize. Objects smaller than two parts are read in one
	// stream. A reader holds at most ReadConcurrency × ReadPartSize bytes.
	ReadPartSize int64
	// ReadTarget, when above 0, is the throughput in bytes per second a
	// parallel read aims at instead of adapting, as the AWS CRT client's
	// target throughput: as many parts at once as ReadTarget over the rate
	// one connection showed over the read's first MiB, at least 2 and at
	// most ReadConcurrency. 0 adapts (see ReadConcurrency).
	ReadTarget int64
	// WriteTarget, when above 0, is the throughput in bytes per second a
	// write of a file or other io.ReaderAt aims at instead of adapting,
	// as the AWS CRT client's target throughput: two parts go first, and
	// the first to finish sets how many go at once, WriteTarget over its
	// own rate (one connection's), at least 2 and at most
	// upload.DefaultMaxSectionConcurrency (16; a write's own
	// WriterOptions.Concurrency when set). Writes of a stream send their
	// buffered parts at their concurrency, their memory bound. 0 adapts.
	WriteTarget int64
	// EscapeKeys stores every key in an escaped form, for S3-compatible
	// servers that keep objects as files (MinIO): they refuse keys with
	// empty, "." or ".." path segments ("a//b", "../x") and cannot list both
	// "a" and "a/1". The stored name is EscapeMarker + the key with every
	// "/" followed by EscapeMarker (and bytes 0x01-0x09 preceded by a tab)
	// + a tab: every segment starts with the marker, so none is empty or a
	// dot segment, and no object is another's directory. The mapping keeps
	// keys' byte order and prefixes, so listing, paging and delimiters work
	// as usual. Objects whose stored names were not made this way (written
	// by other tools) are not listed. A list delimiter containing the
	// marker is ErrInvalidArgument. Leave it off for AWS S3, which stores
	// every key as it is.
	EscapeKeys bool
	// VerbatimKeys says the server stores every key exactly as given and
	// the caller owns the bucket's layout. AWS S3 does, and is trusted to
	// without it. On any other endpoint, without it (or EscapeKeys), the
	// server's profile (Profile) decides: keys it is known to store under
	// another name or not at all (on most servers that keep objects as
	// files: a leading "/", an empty path segment as in "a//b", a "." or
	// ".." segment) are refused before any request with
	// ErrInvalidArgument, so that nothing is written that cannot be read
	// and listed under its own name, and nothing written through
	// blob.Prefixed lands outside its prefix ("tenant/../x"); and on a
	// server that cannot hold an object beside keys under it (MinIO), each
	// write first checks that it clashes with none, which costs a round
	// trip (about 20% of small-write throughput on a local MinIO). Set it
	// only for a server known to store keys verbatim, or when nothing
	// writes such keys.
	VerbatimKeys bool
	// Profile names the server behind Endpoint, for what it stores and
	// honors (see the package documentation's table and ProfileNames):
	// "aws", "minio", "ceph", "r2", "b2", "wasabi", "gcs", "seaweedfs",
	// "garage" or "generic". "" detects it: from the endpoint's host
	// (amazonaws.com, r2.cloudflarestorage.com, backblazeb2.com,
	// wasabisys.com, storage.googleapis.com), else from the Server header
	// of the first answer (AmazonS3, MinIO, Ceph, SeaweedFS), else
	// "generic". An unknown name is ErrInvalidOptions.
	Profile string
}

// EscapeMarker starts every path segment of a stored name under
// Options.EscapeKeys.
const EscapeMarker = "!"

// Default transfer settings.
const (
	DefaultPartSize     = 8 << 20
	DefaultConcurrency  = 8
	DefaultStallTimeout = 60 * time.Second
)

// Client is an S3 REST client: it builds, signs (SigV4, with auth/sigv4),
// sends and retries requests. It is what blob.As reaches from a bucket of
// this package (target type **aws.Client), for the S3 calls the portable
// API does not cover: see Do. A Client is safe for concurrent use.
type Client struct {
	region       string
	endpoint     *url.URL // scheme and host; Path is ignored
	pathStyle    bool
	creds        sigv4.CredentialsSource
	signer       requestSigner
	http         *http.Client
	retry        *retry.Retrier
	stall        time.Duration
	partSize     int64
	conc         int
	readConc     int   // Options.ReadConcurrency
	readPartSize int64 // Options.ReadPartSize
	readTarget   int64 // Options.ReadTarget
	writeTarget  int64 // Options.WriteTarget
	// growWrites: Options.Concurrency was left at 0, so a write of a
	// file or other io.ReaderAt may send more parts at once while the
	// rate grows (upload.Config.MaxSectionConcurrency).
	growWrites bool
	now        func() time.Time

	// copyThreshold is the source size above which Copy uses
	// UploadPartCopy; copyPartSize the part size it uses. Tests lower them.
	copyThreshold int64
	copyPartSize  int64
	escapeKeys    bool
	verbatimKeys  bool // keys go to the server as given (AWS, or Options.VerbatimKeys)
	// profile is the server's profile when Options.Profile or the
	// endpoint's host named it; else the Server header decides.
	profile *profile
	// skew is the server's clock minus ours, in nanoseconds, learnt from
	// a RequestTimeTooSkewed answer.
	skew atomic.Int64
	// partLimit, when set, replaces MaxParts in writers (tests).
	partLimit int
	// server is the Server header of the first answer ("AmazonS3",
	// "MinIO"), once one came; detected the profile it names, worked out
	// once (knownProfile is asked on every request).
	server   atomic.Pointer[string]
	detected atomic.Pointer[profile]
	probes   flights // the profile's HEAD of a bucket, shared while in flight
}

// noteServer records which server answered, once.
func (c *Client) noteServer(h http.Header) {
	if c.server.Load() == nil {
		s := h.Get("Server")
		if c.server.CompareAndSwap(nil, &s) {
			c.detected.Store(profileOfServer(s))
		}
	}
}

// Server returns the Server header of the first answer the client got
// ("AmazonS3", "MinIO", ...), or "" before any answer.
func (c *Client) Server() string {
	if s := c.server.Load(); s != nil {
		return *s
	}
	return ""
}

// New returns a Client for opts. It sends no request, and ctx is not kept
// (it is there so every provider's New has one shape). It fails with an
// error matching ErrInvalidOptions that names the bad option: a missing
// region, an endpoint that is not an http(s) URL, missing credentials, a
// part size outside S3's limits, a negative retry count or concurrency.
func New(ctx context.Context, opts Options) (*Client, error) {
	if opts.Region == "" {
		return nil, fmt.Errorf("%w: no region: set Options.Region (or ?region=, AWS_REGION)", ErrInvalidOptions)
	}
	c := &Client{
		region:        opts.Region,
		pathStyle:     opts.UsePathStyle,
		creds:         opts.Credentials,
		signer:        newSigner(opts.Region),
		http:          opts.HTTPClient,
		stall:         opts.StallTimeout,
		partSize:      opts.PartSize,
		conc:          opts.Concurrency,
		readConc:      opts.ReadConcurrency,
		readPartSize:  opts.ReadPartSize,
		readTarget:    opts.ReadTarget,
		writeTarget:   opts.WriteTarget,
		escapeKeys:    opts.EscapeKeys,
		verbatimKeys:  opts.VerbatimKeys,
		now:           time.Now,
		copyThreshold: MaxPutSize,
		copyPartSize:  DefaultCopyPartSize,
	}
	if opts.Anonymous {
		c.creds = nil
	} else if c.creds == nil {
		return nil, fmt.Errorf("%w: no credentials: set Options.Credentials, or Options.Anonymous for public buckets", ErrInvalidOptions)
	}
	if opts.Endpoint == "" {
		c.endpoint = &url.URL{Scheme: "https", Host: "s3." + opts.Region + ".amazonaws.com"}
		c.profile = awsProfile
	} else {
		u, err := url.Parse(opts.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("%w: endpoint is not a URL", ErrInvalidOptions)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return nil, fmt.Errorf("%w: endpoint %q is not an http:// or https:// URL with a host and no user info", ErrInvalidOptions, u.Redacted())
		}
		c.endpoint = &url.URL{Scheme: u.Scheme, Host: u.Host}
		c.profile = profileOfHost(u.Hostname())
		if h := u.Hostname(); net.ParseIP(h) != nil || h == "localhost" {
			c.pathStyle = true
		}
	}
	if opts.Profile != "" {
		if c.profile = profileNamed(opts.Profile); c.profile == nil {
			return nil, fmt.Errorf("%w: unknown profile %q (known: %s)", ErrInvalidOptions, opts.Profile, strings.Join(ProfileNames(), ", "))
		}
	}
	rt, err := retry.New(opts.Retry)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
	}
	c.retry = rt
	if c.stall <= 0 {
		c.stall = DefaultStallTimeout
	}
	switch {
	case c.readConc == 0:
		c.readConc = DefaultReadConcurrency
	case c.readConc < 0:
		return nil, fmt.Errorf("%w: negative ReadConcurrency %d", ErrInvalidOptions, c.readConc)
	}
	switch {
	case c.readPartSize == 0:
		c.readPartSize = DefaultReadPartSize
	case c.readPartSize < 1<<20:
		return nil, fmt.Errorf("%w: ReadPartSize %d is under 1 MiB", ErrInvalidOptions, c.readPartSize)
	}
	if c.readTarget < 0 {
		return nil, fmt.Errorf("%w: negative ReadTarget %d", ErrInvalidOptions, c.readTarget)
	}
	if c.writeTarget < 0 {
		return nil, fmt.Errorf("%w: negative WriteTarget %d", ErrInvalidOptions, c.writeTarget)
	}
	switch {
	case c.partSize == 0:
		c.partSize = DefaultPartSize
	case c.partSize < MinPartSize || c.partSize > MaxPartSize:
		return nil, fmt.Errorf("%w: PartSize %d is outside S3's limits [%d, %d]", ErrInvalidOptions, c.partSize, MinPartSize, int64(MaxPartSize))
	}
	switch {
	case c.conc == 0:
		c.conc = DefaultConcurrency
		c.growWrites = true
	case c.conc < 0:
		return nil, fmt.Errorf("%w: negative Concurrency %d", ErrInvalidOptions, c.conc)
	}
	if c.http == nil {
		c.http = defaultHTTPClient()
	}
	return c, nil
}

var (
	defaultClientOnce sync.Once
	defaultClient     *http.Client
)

// defaultHTTPClient is shared by every Client made without one, so
// connections are pooled across buckets.
func defaultHTTPClient() *http.Client {
	defaultClientOnce.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 64
		t.DisableCompression = true
		// net/http's 4 KiB connection buffers, not more: bodies bypass the
		// write buffer (bigWriteConn) and large reads the read buffer, and
		// each kept connection holds both. Measured with 16 busy
		// connections: 256 KiB buffers held 8 MiB for nothing; the
		// small-object peak went from 17 MiB (256 KiB) to 7 (64 KiB) to
		// 3.4 (4 KiB), with no change on 256 MiB PUT and GET.
		dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return bigWriteConn{c}, nil
		}
		defaultClient = &http.Client{Transport: t}
	})
	return defaultClient
}

// Close releases the client. It has nothing of its own to release (idle
// connections belong to the HTTP client, shared or the caller's) and
// returns nil; it is there so every provider's Client has one shape.
func (c *Client) Close() error { return nil }

// requestSigner is what the client needs of auth/sigv4's Signer.
type requestSigner interface {
	Sign(req *http.Request, creds sigv4.Credentials, payloadHash string, at time.Time) error
	Presign(req *http.Request, creds sigv4.Credentials, payloadHash string, expires time.Duration, at time.Time) (*url.URL, error)
}

// Payload hashes with a meaning of their own in SigV4.
const (
	unsignedPayload  = "UNSIGNED-PAYLOAD"
	emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// bigWriteConn sends request bodies in 256 KiB writes: net/http copies a
// body of known length through io.LimitReader into the connection's
// ReadFrom, whose generic path writes 32 KiB at a time.
type bigWriteConn struct{ net.Conn }

func (c bigWriteConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if pr, ok := lr.R.(*progressReader); ok {
			n, err := pr.writeTo(c.Conn, lr.N)
			lr.N -= n
			return n, err
		}
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(struct{ io.Writer }{c.Conn}, r, *bp)
}

// maxSkew is how far the server's clock may be from ours before requests
// are signed with the server's time instead.
const maxSkew = 4 * time.Minute

// clock is the time requests are signed with: now, corrected by the skew a
// server reported.
func (c *Client) clock() time.Time { return c.now().Add(time.Duration(c.skew.Load())) }

// learnSkew notes the server's clock from an authentication failure whose
// Date is more than maxSkew from the clock requests were signed with, and
// reports whether it did (the request is then worth signing again).
func (c *Client) learnSkew(e *Error) bool {
	if e.serverDate.IsZero() || e.Status != http.StatusForbidden && e.Code != "RequestTimeTooSkewed" {
		return false
	}
	switch e.Code {
	case "", "RequestTimeTooSkewed", "RequestExpired", "SignatureDoesNotMatch", "InvalidSignatureException", "AuthFailure", "AccessDenied":
	default:
		return false
	}
	off := e.serverDate.Sub(c.clock())
	if off > -maxSkew && off < maxSkew {
		return false
	}
	c.skew.Store(int64(e.serverDate.Sub(c.now())))
	return true
}

// Invalidator is implemented by credential sources that can drop what
// they cached (auth/awscred's chain). When S3 answers ExpiredToken,
// InvalidToken, TokenRefreshRequired or InvalidAccessKeyId, the client
// calls Invalidate and signs the request once more with fresh credentials.
type Invalidator interface {
	Invalidate()
}

var staleCodes = map[string]bool{"ExpiredToken": true, "InvalidToken": true, "TokenRefreshRequired": true, "InvalidAccessKeyId": true}

// invalidate drops the source's cached credentials after an answer that
// says they are stale; it reports whether it could.
func (c *Client) invalidate(e *Error) bool {
	inv, ok := c.creds.(Invalidator)
	if !ok || !staleCodes[e.Code] {
		return false
	}
	inv.Invalidate()
	return true
}

// Region returns the region the client signs for.
func (c *Client) Region() string { return c.region }

// Request is one S3 call for Do.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Bucket is the bucket; "" addresses the service (ListBuckets).
	Bucket string
	// Key is the object key; "" addresses the bucket.
	Key string
	// Query holds sub-resources and parameters ("uploads", "list-type").
	Query url.Values
	// Header holds extra headers; nil means none.
	Header http.Header
	// Body is the request body; nil means none. It is a byte slice so
	// retries can resend it; Do never modifies it. Unless Header has a
	// checksum already, Do adds its CRC32C (x-amz-checksum-crc32c), which
	// the server verifies; over http the body's SHA-256 is signed too.
	Body []byte

	// checksum is the algorithm of the checksum the body carries; ""
	// means the client's default (CRC32C, or MD5 on servers that take
	// nothing else).
	checksum blob.ChecksumAlgorithm
	// contentMD5 adds a Content-MD5 of the body besides its checksum
	// (WriterOptions.Checksum MD5 on a server that takes both).
	contentMD5 bool
	// signedOnly skips the CRC32C over http, where the signed SHA-256
	// already protects the body (multipart parts: their checksums would
	// only be composite ones).
	signedOnly bool
	// attempts, when set, receives how many times the request was sent.
	attempts *int
	// section, when set, is the body instead of Body: bytes read from a
	// ReaderAt as they are sent, never held in memory whole (upload parts
	// of a file or a bytes.Reader).
	section *io.SectionReader
	// payloadSHA, when set, is the body's SHA-256 (hex), computed by the
	// caller in the same pass as its checksum, so that a body signed
	// over http is not read once more for it.
	payloadSHA string
}

// sectionBufs carry section bodies from the source to the hash and the
// connection: 64 KiB, so parts in flight hold little memory (a 256 MiB
// upload from a file peaks near 1 MiB).
var sectionBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// bodyLen is the length of r's body.
func (r *Request) bodyLen() int64 {
	if r.section != nil {
		return r.section.Size()
	}
	return int64(len(r.Body))
}

// sumHeader is the header that carries a body's checksum of alg:
// Content-MD5 for MD5, x-amz-checksum-<alg> for the others.
func sumHeader(alg blob.ChecksumAlgorithm) string {
	switch alg {
	case blob.ChecksumMD5:
		return "Content-Md5"
	case blob.ChecksumCRC64NVME:
		return "X-Amz-Checksum-Crc64nvme"
	case blob.ChecksumSHA256:
		return "X-Amz-Checksum-Sha256"
	}
	return "X-Amz-Checksum-Crc32c"
}

// bodySums returns the SHA-256 (when sha) of r's body, its checksum of
// algorithm alg (base64; none for ""), and its MD5 (base64, when
// withMD5), reading a section body once for all.
func (r *Request) bodySums(sha bool, alg blob.ChecksumAlgorithm, withMD5 bool) (shaHex, sumB64, md5B64 string, err error) {
	if r.section == nil {
		if sha {
			s := sha256.Sum256(r.Body)
			shaHex = hex.EncodeToString(s[:])
		}
		if alg == blob.ChecksumCRC32C {
			sumB64 = crc32cBase64(r.Body)
		} else if alg != "" {
			sumB64 = checksum.Base64(checksum.Sum(alg, r.Body))
		}
		if withMD5 {
			md5B64 = checksum.Base64(checksum.Sum(blob.ChecksumMD5, r.Body))
		}
		return shaHex, sumB64, md5B64, nil
	}
	h := sha256.New()
	c := checksum.New(alg)
	var m hash.Hash
	var ws []io.Writer
	if sha {
		ws = append(ws, h)
	}
	if c != nil {
		ws = append(ws, c)
	}
	if withMD5 {
		m = checksum.New(blob.ChecksumMD5)
		ws = append(ws, m)
	}
	bp := sectionBufs.Get().(*[]byte)
	defer sectionBufs.Put(bp)
	if _, err := io.CopyBuffer(io.MultiWriter(ws...), io.NewSectionReader(r.section, 0, r.section.Size()), *bp); err != nil {
		return "", "", "", fmt.Errorf("%w: reading the body: %w", ErrInvalidRequest, err)
	}
	if sha {
		shaHex = hex.EncodeToString(h.Sum(nil))
	}
	if c != nil {
		sumB64 = checksum.Base64(c.Sum(nil))
	}
	if m != nil {
		md5B64 = checksum.Base64(m.Sum(nil))
	}
	return shaHex, sumB64, md5B64, nil
}

// defaultSum is the checksum bodies carry unless a request says: MD5
// where the server's profile takes no x-amz-checksum-* header, else
// CRC32C.
func (c *Client) defaultSum() blob.ChecksumAlgorithm {
	if p := c.knownProfile(); p != nil && !p.fullCRC {
		return blob.ChecksumMD5
	}
	return blob.ChecksumCRC32C
}

// Do signs and sends r, retrying as Options.Retry says. On a 2xx status it
// returns the response with its body open: the caller must close it. Any
// other status is an *Error (code, status, message, request ID, Retryable).
// What never reached S3 is an error matching ErrInvalidRequest (a request
// it cannot send) or ErrCredentials (no credentials to sign with), or a
// transport error naming the method and URL. A canceled ctx gives ctx's
// error. Nothing here returns a blob error: the client stands alone.
func (c *Client) Do(ctx context.Context, r *Request) (*http.Response, error) {
	resp, _, err := c.do(ctx, r, false)
	return resp, err
}

// doRead is Do for responses that are read whole: the body is read inside
// the retry loop, so a connection lost mid-body is retried too.
func (c *Client) doRead(ctx context.Context, r *Request) (http.Header, []byte, error) {
	resp, body, err := c.do(ctx, r, true)
	if err != nil {
		return nil, nil, err
	}
	return resp.Header, body, nil
}

var errStalled = errors.New("s3: transfer stalled")

// prepared holds what is computed once per request, not per attempt.
type prepared struct {
	url         *url.URL
	payloadHash string
	header      http.Header
}

func (c *Client) prepare(r *Request) (*prepared, error) {
	if r.Method == "" {
		return nil, &fatalError{fmt.Errorf("%w: no method", ErrInvalidRequest)}
	}
	p := &prepared{url: c.url(r.Bucket, r.Key, r.Query), header: http.Header{}}
	for k, v := range r.Header {
		p.header[k] = v
	}
	n := r.bodyLen()
	signBody := false
	switch {
	case c.creds == nil:
		p.payloadHash = ""
	case n == 0:
		p.payloadHash = emptyPayloadHash
	case c.endpoint.Scheme == "https":
		// TLS protects the body in transit; the checksum makes the server
		// verify it arrived whole.
		p.payloadHash = unsignedPayload
	case r.payloadSHA != "":
		p.payloadHash = r.payloadSHA
	default:
		signBody = true
	}
	var sum blob.ChecksumAlgorithm
	if n > 0 && !hasChecksum(p.header) && !(r.signedOnly && c.endpoint.Scheme == "http" && c.creds != nil) {
		if sum = r.checksum; sum == "" {
			sum = c.defaultSum()
		}
	}
	withMD5 := r.contentMD5 && n > 0 && p.header.Get("Content-Md5") == "" && sum != blob.ChecksumMD5
	if signBody || sum != "" || withMD5 {
		sha, b64, md5b64, err := r.bodySums(signBody, sum, withMD5)
		if err != nil {
			return nil, &fatalError{err}
		}
		if signBody {
			p.payloadHash = sha
		}
		if sum != "" {
			p.header.Set(sumHeader(sum), b64)
		}
		if withMD5 {
			p.header.Set("Content-Md5", md5b64)
		}
	}
	return p, nil
}

func hasChecksum(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
			return true
		}
	}
	return h.Get("Content-Md5") != ""
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32cBase64 is the x-amz-checksum-crc32c value of b: the big-endian
// CRC32C, base64-encoded.
func crc32cBase64(b []byte) string { return crc32cString(crc32.Checksum(b, castagnoli)) }

func crc32cString(sum uint32) string {
	var buf [4]byte
	binary.BigEndian.PutUint32(buf[:], sum)
	return base64.StdEncoding.EncodeToString(buf[:])
}

func (c *Client) do(ctx context.Context, r *Request, readBody bool) (*http.Response, []byte, error) {
	p, err := c.prepare(r)
	if err != nil {
		return nil, nil, err
	}
	var last error
	invalidated := false
	sent := 0
	for attempt := 1; ; attempt++ {
		sent = attempt
		if r.attempts != nil {
			*r.attempts = attempt
		}
		resp, body, s3err, err := c.attempt(ctx, r, p, readBody)
		if err == nil && s3err == nil {
			return resp, body, nil
		}
		if s3err != nil {
			last = s3err
		} else {
			last = err
		}
		if s3err != nil && attempt < c.retry.MaxAttempts() && c.learnSkew(s3err) {
			events.Notify(ctx, events.Event{Kind: events.ClockSkew, Err: s3err,
				Detail: fmt.Sprintf("the server's clock is %s off ours; signing again with it", time.Duration(c.skew.Load()).Round(time.Second))})
			continue // signed with a clock the server rejects: sign again at once
		}
		if s3err != nil && attempt < c.retry.MaxAttempts() && !invalidated && c.invalidate(s3err) {
			invalidated = true
			events.Notify(ctx, events.Event{Kind: events.CredentialsRefresh, Err: s3err,
				Detail: "the server refused the credentials as stale (" + s3err.Code + "); fetching fresh ones"})
			continue // the source had stale credentials: fetch fresh ones
		}
		if !retryable(ctx, err, s3err) {
			break
		}
		if err := c.retry.Again(ctx, attempt, last); err == retry.ErrStop {
			break
		} else if err != nil {
			return nil, nil, err
		}
	}
	var fatal *fatalError
	isFatal := errors.As(last, &fatal)
	if isFatal {
		last = fatal.err
	}
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	var s3err *Error
	if !isFatal && !errors.As(last, &s3err) {
		// A transport error: say what was sent and how often, once (a
		// *url.Error would repeat the method and URL).
		if ue, ok := last.(*url.Error); ok {
			last = ue.Err
		}
		tries := ""
		if sent > 1 {
			tries = fmt.Sprintf(" (%d attempts)", sent)
		}
		last = fmt.Errorf("s3: %s %s%s: %w", r.Method, p.url.Redacted(), tries, last)
	}
	return nil, nil, last
}

// attempt sends r once. It returns the response (and, with readBody, its
// body), or the S3 error response, or the transport error.
func (c *Client) attempt(ctx context.Context, r *Request, p *prepared, readBody bool) (*http.Response, []byte, *Error, error) {
	actx, cancel := context.WithCancelCause(ctx)
	wd := newWatchdog(c.stall, func() { cancel(errStalled) })
	// net/http may still read a request body after Do returns; r.Body is
	// reused (retries, part buffers) only once every body made from it
	// is closed.
	bodies := &sync.WaitGroup{}
	defer c.waitBodies(bodies)
	req, err := c.newHTTPRequest(actx, r, p, wd, bodies)
	if err != nil {
		wd.stop()
		cancel(nil)
		return nil, nil, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		wd.stop()
		cancel(nil)
		if context.Cause(actx) == errStalled && ctx.Err() == nil {
			err = fmt.Errorf("%w: no response within %v", errStalled, c.stall)
		}
		return nil, nil, nil, err
	}
	wd.kick()
	c.noteServer(resp.Header)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		s3err := parseError(resp)
		resp.Body.Close()
		wd.stop()
		cancel(nil)
		return nil, nil, s3err, nil
	}
	if !readBody {
		// The caller reads at its own pace: the watchdog runs only while
		// a Read waits on the network.
		wd.stop()
		resp.Body = &watchedBody{rc: resp.Body, wd: wd, cancel: cancel, actx: actx, stall: c.stall}
		return resp, nil, nil, nil
	}
	body, err := io.ReadAll(&watchedBody{rc: resp.Body, wd: wd, cancel: cancel, actx: actx, stall: c.stall})
	resp.Body.Close()
	wd.stop()
	cancel(nil)
	if err != nil {
		return nil, nil, nil, err
	}
	// CopyObject, UploadPartCopy and CompleteMultipartUpload may fail after
	// a 200: the error is then the body.
	if bytes.Contains(body[:min(len(body), 256)], []byte("<Error>")) {
		e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("x-amz-request-id")}
		if fillError(e, body) {
			if e.Status == http.StatusOK && retryableCodes[e.Code] {
				e.Status = http.StatusServiceUnavailable
			}
			return nil, nil, e, nil
		}
	}
	return resp, body, nil, nil
}

// closeBody closes the body of a request that will not be sent.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// waitBodies waits until net/http has closed every request body of an
// attempt, for at most the stall timeout.
func (c *Client) waitBodies(bodies *sync.WaitGroup) {
	done := make(chan struct{})
	go func() {
		bodies.Wait()
		close(done)
	}()
	t := time.NewTimer(c.stall)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

func (c *Client) newHTTPRequest(ctx context.Context, r *Request, p *prepared, wd *watchdog, bodies *sync.WaitGroup) (*http.Request, error) {
	u := *p.url
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), nil)
	if err != nil {
		return nil, &fatalError{fmt.Errorf("%w: %v", ErrInvalidRequest, err)}
	}
	req.URL = &u
	req.Host = u.Host
	req.ContentLength = r.bodyLen()
	if req.ContentLength > 0 {
		// A ReadCloser of our own, so net/http hands it (inside an
		// io.LimitedReader) to bigWriteConn, which writes it straight
		// from r.Body (or from the section, through one pooled buffer).
		newBody := func() *progressReader {
			bodies.Add(1)
			pr := &progressReader{b: r.Body, wd: wd, done: bodies.Done}
			if r.section != nil {
				pr.section = io.NewSectionReader(r.section, 0, r.section.Size())
			}
			return pr
		}
		req.Body = newBody()
		req.GetBody = func() (io.ReadCloser, error) { return newBody(), nil }
	} else {
		req.Body = nil
		req.GetBody = nil
	}
	for k, v := range p.header {
		req.Header[k] = v
	}
	if c.creds == nil {
		return req, nil
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		closeBody(req)
		return nil, &fatalError{fmt.Errorf("%w: retrieving them: %w", ErrCredentials, err)}
	}
	if err := c.signer.Sign(req, creds, p.payloadHash, c.clock()); err != nil {
		closeBody(req)
		return nil, &fatalError{fmt.Errorf("%w: signing: %w", ErrCredentials, err)}
	}
	return req, nil
}

// url builds the request URL for bucket and key: virtual-hosted or path
// style, the key escaped as S3 wants (every byte but unreserved ones and
// '/' percent-encoded), the query encoded with %20 for spaces.
func (c *Client) url(bucket, key string, q url.Values) *url.URL {
	u := &url.URL{Scheme: c.endpoint.Scheme, Host: c.endpoint.Host}
	path, raw := "/", "/"
	switch {
	case bucket == "":
	case c.usePathStyle(bucket):
		path += bucket
		raw += escapePath(bucket)
		if key != "" {
			path += "/"
			raw += "/"
		}
	default:
		u.Host = bucket + "." + u.Host
	}
	path += key
	raw += escapePath(key)
	u.Path, u.RawPath = path, raw
	u.RawQuery = encodeQuery(q)
	return u
}

func (c *Client) usePathStyle(bucket string) bool {
	return c.pathStyle || (c.endpoint.Scheme == "https" && strings.Contains(bucket, "."))
}

// escapePath percent-encodes s as S3's canonical URI wants: everything but
// A-Z a-z 0-9 - . _ ~ and /.
func escapePath(s string) string { return uriEncode(s, false) }

func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// encodeQuery encodes q sorted by key, RFC 3986 style ("%20", not "+").
func encodeQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := q[k]
		if len(vs) == 0 {
			vs = []string{""}
		}
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(uriEncode(k, true))
			b.WriteByte('=')
			b.WriteString(uriEncode(v, true))
		}
	}
	return b.String()
}

// watchdog calls fire when kick has not been called for d.
type watchdog struct {
	t *time.Timer
	d time.Duration
}

func newWatchdog(d time.Duration, fire func()) *watchdog {
	return &watchdog{t: time.AfterFunc(d, fire), d: d}
}

func (w *watchdog) kick() { w.t.Reset(w.d) }
func (w *watchdog) stop() { w.t.Stop() }

// progressReader is a request body: b from off, kicking the watchdog as it
// is sent.
type progressReader struct {
	b       []byte
	section *io.SectionReader // the body instead of b, when set
	off     int
	wd      *watchdog
	done    func() // called once, at the first Close
	once    sync.Once
}

func (p *progressReader) Read(b []byte) (int, error) {
	if p.section != nil {
		n, err := p.section.Read(b)
		if n > 0 {
			p.wd.kick()
		}
		return n, err
	}
	if p.off >= len(p.b) {
		return 0, io.EOF
	}
	n := copy(b, p.b[p.off:])
	p.off += n
	p.wd.kick()
	return n, nil
}

func (p *progressReader) Close() error {
	p.once.Do(p.done)
	return nil
}

// writeTo writes up to limit bytes of the body to w in large writes.
func (p *progressReader) writeTo(w io.Writer, limit int64) (int64, error) {
	if p.section != nil {
		bp := sectionBufs.Get().(*[]byte)
		defer sectionBufs.Put(bp)
		return io.CopyBuffer(struct{ io.Writer }{w}, io.LimitReader(struct{ io.Reader }{p}, limit), *bp)
	}
	var total int64
	for p.off < len(p.b) && total < limit {
		end := min(len(p.b), p.off+writeChunk, p.off+int(min(limit-total, writeChunk)))
		n, err := w.Write(p.b[p.off:end])
		p.off += n
		total += int64(n)
		p.wd.kick()
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// writeChunk is the size of the writes of a request body.
const writeChunk = 256 << 10

// watchedBody is a response body whose reads run under the watchdog: a
// Read that waits longer than the stall timeout cancels the attempt and
// fails with an error that names the stall. Time between Reads does not
// count.
type watchedBody struct {
	rc     io.ReadCloser
	wd     *watchdog
	cancel context.CancelCauseFunc
	actx   context.Context
	stall  time.Duration
	once   sync.Once
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.wd.kick()
	n, err := b.rc.Read(p)
	b.wd.stop()
	if err != nil && err != io.EOF && context.Cause(b.actx) == errStalled {
		err = fmt.Errorf("%w: no data for %v", errStalled, b.stall)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	err := b.rc.Close()
	b.once.Do(func() {
		b.wd.stop()
		b.cancel(nil)
	})
	return err
}

// parseContentRange reads the total size from "bytes a-b/total".
func parseContentRange(s string) (int64, bool) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 || s[i+1:] == "*" {
		return 0, false
	}
	n, err := strconv.ParseInt(s[i+1:], 10, 64)
	return n, err == nil
}
