// Package sigv4 implements AWS Signature Version 4 with the standard library
// only: header signing (Signer.Sign), presigned URLs (Signer.Presign),
// aws-chunked streaming uploads, an http.RoundTripper that signs what it
// sends (Transport), and the server side, which checks SigV4-signed requests
// (Verifier and its Middleware).
//
// # The request as sent
//
// What is signed is the request as it goes on the wire: the path is
// URL.Opaque when set (as "/path" or "//host/path"), else URL.EscapedPath();
// the host is req.Host, else URL.Host, without the scheme's default port;
// every header in req.Header is signed (lower-cased names, values trimmed with
// inner runs of white space collapsed, repeated headers joined with ",")
// except the hop-by-hop and proxy-rewritten ones (User-Agent, Expect,
// Transfer-Encoding, Connection, Keep-Alive, Proxy-Connection, Upgrade, TE,
// Proxy-Authorization, X-Amzn-Trace-Id), and those with no value, which
// net/http does not send. One name in two spellings ("X-Meta-A" and
// "x-meta-a") is one signed header, its values joined in the order of the
// keys, as net/http writes the lines (an HTTP/2 transport sends them in the
// map's order instead). Content-Length is signed only when req.Header holds
// it (as the S3 examples leave it unsigned); it must then agree with
// req.ContentLength, which is what the client sends. Query parameters are
// decoded ('+' is a space), encoded the SigV4 way, and sorted by key, then by
// value.
//
// # Path encoding
//
// For every service but S3 the wire path is encoded once more (double
// encoding: "%" becomes "%25") and "." / ".." segments and empty segments are
// removed first. For S3 ("s3", "s3-object-lambda", "s3-outposts",
// "s3express") and when DisableDoubleEncoding / DisablePathNormalization are
// set, the wire path is decoded and encoded once, and kept as it is.
//
// # Speed
//
// The derived signing key is cached per secret key, day, region and service.
// Signing an S3 GET allocates twice (the X-Amz-Date and Authorization values
// share one string, and the header slices one array); presigning allocates
// the URL and its query.
package sigv4

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Payload hashes with a meaning of their own.
const (
	// UnsignedPayload is the payload hash that leaves the body unsigned.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// EmptyPayloadHash is the hex SHA-256 of the empty body.
	EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// StreamingPayload announces an aws-chunked body whose every chunk is
	// signed (see Signer.SignStreaming).
	StreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	// StreamingPayloadTrailer announces signed chunks followed by a signed
	// trailer.
	StreamingPayloadTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	// StreamingUnsignedTrailer announces an aws-chunked body with unsigned
	// chunks and a checksum trailer (see Signer.SignUnsignedTrailer).
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// Algorithm is the SigV4 algorithm name in Authorization and X-Amz-Algorithm.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxPresignExpiry is the longest validity of a presigned URL: 7 days.
const MaxPresignExpiry = 7 * 24 * time.Hour

// Errors returned when signing. Each error returned by the signer matches
// one of these with errors.Is and says what was wrong.
var (
	// ErrNoCredentials: the credentials lack an access key ID or a secret key.
	ErrNoCredentials = errors.New("sigv4: missing credentials")
	// ErrInvalidSigner: the Signer has no or a malformed Service or Region.
	ErrInvalidSigner = errors.New("sigv4: invalid signer")
	// ErrInvalidRequest: the request cannot be signed as it is (no URL or
	// host, a malformed escape, a bad payload hash, an expiry out of range).
	ErrInvalidRequest = errors.New("sigv4: invalid request")
)

// Signer signs HTTP requests for one AWS service in one region.
//
// A Signer holds no secrets and no mutable state (signing keys are cached
// package-wide), so one value may be copied and used by any number of
// goroutines. The zero value has no Service or Region; signing with it fails
// with ErrInvalidSigner.
type Signer struct {
	// Service is the signing name of the service: "s3", "execute-api", "sts".
	Service string
	// Region is the signing region: "us-east-1".
	Region string
	// DisableDoubleEncoding encodes the path once instead of twice. It is
	// always so for S3.
	DisableDoubleEncoding bool
	// DisablePathNormalization keeps "." and ".." segments and "//" in the
	// path. It is always so for S3.
	DisablePathNormalization bool
}

func (s *Signer) isS3() bool {
	switch s.Service {
	case "s3", "s3-object-lambda", "s3-outposts", "s3express":
		return true
	}
	return false
}

func (s *Signer) check() error {
	if s == nil {
		return fmt.Errorf("%w: nil *Signer", ErrInvalidSigner)
	}
	if s.Service == "" || s.Region == "" {
		return fmt.Errorf("%w: Service and Region must both be set (got Service %q, Region %q)", ErrInvalidSigner, s.Service, s.Region)
	}
	if !scopePart(s.Service) || !scopePart(s.Region) {
		return fmt.Errorf("%w: Service %q or Region %q holds a character outside [a-z0-9-_.]", ErrInvalidSigner, s.Service, s.Region)
	}
	return nil
}

func scopePart(s string) bool {
	for i := 0; i < len(s); i++ {
		if !scopeByte[s[i]] {
			return false
		}
	}
	return true
}

// scopeByte marks the bytes allowed in a Service or Region: [a-zA-Z0-9-_.].
var scopeByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = unreserved[c] && c != '~'
	}
	return t
}()

// akidByte marks the bytes allowed in an access key ID: printable ASCII but
// space, '/', ',' and '=', which would break the Credential field.
var akidByte = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = c != '/' && c != ',' && c != '='
	}
	return t
}()

func checkCredentials(c *Credentials) error {
	if c.AccessKeyID == "" {
		return fmt.Errorf("%w: the access key ID is empty", ErrNoCredentials)
	}
	if c.SecretAccessKey == "" {
		return fmt.Errorf("%w: the secret access key of %q is empty", ErrNoCredentials, c.AccessKeyID)
	}
	for i := 0; i < len(c.AccessKeyID); i++ {
		if !akidByte[c.AccessKeyID[i]] {
			return fmt.Errorf("%w: the access key ID holds a '/', ',', '=', space or non-ASCII byte", ErrNoCredentials)
		}
	}
	return nil
}

// validPayloadHash accepts 64 lower-case hex digits, UNSIGNED-PAYLOAD and the
// STREAMING-* names.
func validPayloadHash(h string) bool {
	if h == EmptyPayloadHash || h == UnsignedPayload {
		return true
	}
	if len(h) == 64 {
		for i := 0; i < 64; i++ {
			if c := h[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
		return true
	}
	if h == UnsignedPayload {
		return true
	}
	if !strings.HasPrefix(h, "STREAMING-") {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func isHTTPS(req *http.Request) bool {
	if req.URL != nil && req.URL.Scheme != "" {
		return req.URL.Scheme == "https" || req.URL.Scheme != "http" && strings.EqualFold(req.URL.Scheme, "https")
	}
	return req.TLS != nil
}

func bodyless(req *http.Request) bool {
	return (req.Body == nil || req.Body == http.NoBody) && req.ContentLength <= 0
}

// trace receives the intermediate strings of a signing, for tests.
type trace struct {
	canonical, stringToSign, signedHeaders string
}

// Sign signs req in place with the Authorization header. It sets X-Amz-Date
// to at (in UTC), X-Amz-Security-Token when c has a session token, and
// X-Amz-Content-Sha256 to payloadHash for S3 or when req already has that
// header; when the host carries the scheme's default port, it sets req.Host
// to the host without it, so that the Host header sent is the one signed.
// Other headers are left alone; signing the same request again replaces the
// previous signature.
//
// payloadHash is the hex SHA-256 of the body, UnsignedPayload, or one of the
// streaming constants. An empty payloadHash means: the X-Amz-Content-Sha256
// header when req has one, else EmptyPayloadHash when req has no body; for a
// request with a body it is an error.
//
// Errors match ErrNoCredentials, ErrInvalidSigner or ErrInvalidRequest.
func (s *Signer) Sign(req *http.Request, c Credentials, payloadHash string, at time.Time) error {
	_, err := s.sign(req, &c, payloadHash, at, nil)
	return err
}

// sign is Sign, returning the signature (hex) too.
//
// What it builds lives in stack arrays (the header list) and in pooled
// buffers (the canonical request, the string to sign, the Authorization
// text); it allocates only the two values it sets: one string holds the date
// and the Authorization value, one array the header slices.
func (s *Signer) sign(req *http.Request, c *Credentials, payloadHash string, at time.Time, tr *trace) (sig [64]byte, err error) {
	if err := s.checkInputs(req, c); err != nil {
		return sig, err
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	sg, err := s.newSigning(req, c, payloadHash, at)
	if err != nil {
		return sig, err
	}
	var candArr [16]candidate
	cands, found := gather(candArr[:0], req.Header, sg.o)
	if err := checkContentLength(req, found.lengthVals, found.hasLength); err != nil {
		return sig, err
	}
	st := hmacPool.Get().(*hmacState)
	cr, signedAt, err := s.appendSignCanonical(st.cr[:0], req, &sg, cands, &found)
	if err != nil {
		hmacPool.Put(st)
		return sig, err
	}
	signed := cr[signedAt : len(cr)-1-len(sg.payloadHash)]
	sig = s.signature(st, cr, sg.date[:], c.SecretAccessKey, tr)
	if tr != nil {
		tr.canonical, tr.signedHeaders = string(cr), string(signed)
	}

	// Only now that signing cannot fail, change the request.
	sendHostAsSigned(req, sg.host)
	if found.stray {
		deleteStray(req.Header, sg.o)
	}
	s.setSigned(req.Header, st, cr, &sg, c.AccessKeyID, signed, &sig, &found)
	return sig, nil
}

// signing holds what a signing computes from its inputs before it writes
// the canonical request.
type signing struct {
	host        string
	date        [16]byte // X-Amz-Date
	payloadHash string
	token       string
	o           collectOptions // which of X-Amz-Content-Sha256, -Security-Token are signed
}

// checkInputs checks what both Sign and Presign need: a valid Signer,
// credentials and a request with a URL.
func (s *Signer) checkInputs(req *http.Request, c *Credentials) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := checkCredentials(c); err != nil {
		return err
	}
	if req == nil || req.URL == nil {
		return fmt.Errorf("%w: nil request or URL", ErrInvalidRequest)
	}
	return nil
}

// newSigning resolves the payload hash, the host and the date of a Sign.
func (s *Signer) newSigning(req *http.Request, c *Credentials, payloadHash string, at time.Time) (sg signing, err error) {
	sg.payloadHash, sg.o.sha, err = s.signPayloadHash(req, payloadHash)
	if err != nil {
		return sg, err
	}
	sg.token, sg.o.token = c.SessionToken, c.SessionToken != ""
	sg.host = canonicalHost(req, isHTTPS(req))
	if sg.host == "" {
		return sg, fmt.Errorf("%w: the request has no host", ErrInvalidRequest)
	}
	if err := checkTime(at); err != nil {
		return sg, err
	}
	sg.date = amzDateOf(at)
	return sg, nil
}

// signPayloadHash returns the payload hash to sign (see Sign for an empty
// payloadHash) and whether X-Amz-Content-Sha256 is signed: always for S3,
// else when req has that header.
func (s *Signer) signPayloadHash(req *http.Request, payloadHash string) (_ string, setSha bool, err error) {
	s3 := s.isS3()
	setSha = s3
	if payloadHash == "" || !s3 {
		vs, ok := req.Header[keySha]
		setSha = ok || s3
		if payloadHash == "" {
			switch {
			case ok:
				if len(vs) > 0 {
					payloadHash = vs[0]
				}
			case bodyless(req):
				payloadHash = EmptyPayloadHash
			default:
				return "", false, fmt.Errorf("%w: the request has a body but no payload hash was given (pass its hex SHA-256, UnsignedPayload or a streaming constant)", ErrInvalidRequest)
			}
		}
	}
	if !validPayloadHash(payloadHash) {
		return "", false, fmt.Errorf("%w: payload hash %q is neither 64 lower-case hex digits, %s nor a STREAMING-* name", ErrInvalidRequest, payloadHash, UnsignedPayload)
	}
	return payloadHash, setSha, nil
}

// appendSignCanonical appends the canonical request of a Sign; the signed
// header list starts at b[signedAt:].
func (s *Signer) appendSignCanonical(b []byte, req *http.Request, sg *signing, cands []candidate, found *collectResult) (_ []byte, signedAt int, err error) {
	path, err := wirePath(req.URL)
	if err != nil {
		return b, 0, err
	}
	b, _, err = s.appendRequestLine(b, req.Method, path, req.URL.RawQuery, nil)
	if err != nil {
		return b, 0, err
	}
	if b, signedAt, err = sg.appendHeaders(b, cands, found); err != nil {
		return b, 0, err
	}
	return append(append(b, '\n'), sg.payloadHash...), signedAt, nil
}

// appendHeaders appends the canonical headers and the signed header list:
// the computed headers and the candidates, each name lowered and checked,
// sorted.
func (sg *signing) appendHeaders(b []byte, cands []candidate, found *collectResult) (_ []byte, signedAt int, err error) {
	var hdrArr [16]hdr
	var nameArr [384]byte
	var ordArr [16]int32
	hs, names := addComputed(hdrArr[:0], nameArr[:0], "host", sg.host, exactHdr, srcHost)
	hs, names = addComputed(hs, names, "x-amz-date", "", dateHdr, srcDate)
	if sg.o.sha {
		hs, names = addComputed(hs, names, "x-amz-content-sha256", sg.payloadHash, exactHdr, srcSha)
	}
	if sg.o.token {
		hs, names = addComputed(hs, names, "x-amz-security-token", sg.token, rawHdr, srcToken)
	}
	hs, names = collect(hs, names, cands, sg.o, found)
	if found.bad != "" {
		return b, 0, fmt.Errorf("%w: header name %q is not a valid HTTP token", ErrInvalidRequest, found.bad)
	}
	l := headerList{hs: hs, names: names, cands: cands}
	l.ord = sortHeaders(ordArr[:0], l)
	b, signedAt = l.appendTo(b, sg.date[:])
	return b, signedAt, nil
}

// sendHostAsSigned sets req.Host to host (the host without the default
// port) when the request would otherwise send another.
func sendHostAsSigned(req *http.Request, host string) {
	if req.Host != host && (req.Host != "" || req.URL.Host != host) {
		req.Host = host
	}
}

// deleteStray deletes the headers the signing sets when they are there in
// another spelling than the one it sets them in.
func deleteStray(h http.Header, o collectOptions) {
	for k := range h {
		switch k {
		case keyDate, keyAuth, keySha, keyToken:
			continue
		}
		if eqLower(k, "x-amz-date") || eqLower(k, "authorization") ||
			o.sha && eqLower(k, "x-amz-content-sha256") || o.token && eqLower(k, "x-amz-security-token") {
			delete(h, k)
		}
	}
}

// setSigned sets X-Amz-Date and Authorization, and X-Amz-Content-Sha256
// and X-Amz-Security-Token when signed and not already holding the value
// signed. It writes the Authorization text in st, then returns st and cr
// (signed is part of cr) to the pool.
func (s *Signer) setSigned(h http.Header, st *hmacState, cr []byte, sg *signing, akid string, signed []byte, sig *[64]byte, found *collectResult) {
	// One string holds the date and the Authorization value.
	out := append(st.out[:0], sg.date[:]...)
	out = append(out, Algorithm+" Credential="...)
	out = append(out, akid...)
	out = append(out, '/')
	out = appendScope(out, sg.date[:], s.Region, s.Service)
	out = append(out, ", SignedHeaders="...)
	out = append(out, signed...)
	out = append(out, ", Signature="...)
	out = append(out, sig[:]...)
	str := string(out)
	putState(st, cr, out)
	// One array the header slices. Each value is a full slice (len == cap)
	// of it, so that an append to one header never writes into another's
	// value.
	hv := make([]string, 2, 4)
	hv[0], hv[1] = str[:16], str[16:]
	h[keyDate] = hv[0:1:1]
	h[keyAuth] = hv[1:2:2]
	if sg.o.sha && !(len(found.shaVals) == 1 && found.shaVals[0] == sg.payloadHash) {
		hv = append(hv, sg.payloadHash)
		h[keySha] = hv[len(hv)-1 : len(hv) : len(hv)]
	}
	if sg.o.token && !(len(found.tokenVals) == 1 && found.tokenVals[0] == sg.token) {
		hv = append(hv, sg.token)
		h[keyToken] = hv[len(hv)-1 : len(hv) : len(hv)]
	}
}

// checkTime rejects a signing time whose year does not have four digits.
func checkTime(at time.Time) error {
	// The Unix times of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
	const first, last = -62167219200, 253402300799
	if u := at.Unix(); u < first || u > last {
		return fmt.Errorf("%w: the signing time %v is outside the years 0000 to 9999", ErrInvalidRequest, at)
	}
	return nil
}

// checkContentLength rejects a Content-Length header that disagrees with
// req.ContentLength, since the client sends the latter.
func checkContentLength(req *http.Request, vs []string, ok bool) error {
	if !ok || req.ContentLength <= 0 {
		return nil
	}
	if len(vs) != 1 || vs[0] != strconv.FormatInt(req.ContentLength, 10) {
		return fmt.Errorf("%w: header Content-Length %q disagrees with req.ContentLength %d", ErrInvalidRequest, vs, req.ContentLength)
	}
	return nil
}

// splitTime returns the UTC calendar date and clock of at, computed from
// its Unix time in one step (the proleptic Gregorian calendar, valid from
// year 0 to 9999).
func splitTime(at time.Time) timeParts {
	secs := at.Unix()
	days := secs / 86400
	rem := secs % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	// Days to civil date (Howard Hinnant's algorithm).
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return timeParts{int(y), int(m), int(d), int(rem / 3600), int(rem % 3600 / 60), int(rem % 60)}
}

func appendScope(b, date []byte, region, service string) []byte {
	b = append(b, date[:8]...)
	b = append(b, '/')
	b = append(b, region...)
	b = append(b, '/')
	b = append(b, service...)
	return append(b, "/aws4_request"...)
}

// canonicalRequest is a canonical request in b, with the offsets of its
// query and signed header list.
type canonicalRequest struct {
	b                 []byte
	query, queryEnd   int
	signed, signedEnd int
}

// appendCanonicalRequest appends the canonical request. q, when not nil,
// holds the query parameters (the presigning ones added); else rawQuery is
// the query. date is the value of the x-amz-date header, when l has one.
func (s *Signer) appendCanonicalRequest(b []byte, method, path, rawQuery string, q *queryBuilder, l *headerList, date []byte, payloadHash string) (cr canonicalRequest, err error) {
	b, cr.query, err = s.appendRequestLine(b, method, path, rawQuery, q)
	if err != nil {
		return cr, err
	}
	cr.queryEnd = len(b) - 1
	b, cr.signed = l.appendTo(b, date)
	cr.signedEnd = len(b)
	b = append(b, '\n')
	cr.b = append(b, payloadHash...)
	return cr, nil
}

// appendRequestLine appends the method, the canonical path and the
// canonical query, each followed by '\n'; the query starts at b[query:].
func (s *Signer) appendRequestLine(b []byte, method, path, rawQuery string, q *queryBuilder) (_ []byte, query int, err error) {
	if method == "" {
		method = http.MethodGet
	}
	b = append(b, method...)
	b = append(b, '\n')
	s3 := s.isS3()
	b, err = appendCanonicalPath(b, path, !s3 && !s.DisablePathNormalization, !s3 && !s.DisableDoubleEncoding)
	if err != nil {
		return b, 0, err
	}
	b = append(b, '\n')
	query = len(b)
	if q != nil {
		b = q.appendTo(b)
	} else if rawQuery != "" {
		if b, err = appendRawQuery(b, rawQuery); err != nil {
			return b, 0, err
		}
	}
	return append(b, '\n'), query, nil
}

// signature hashes the canonical request, builds the string to sign and
// returns the hex HMAC of it under the derived key, hashing with st (nil: one
// from hmacPool).
func (s *Signer) signature(st *hmacState, cr, date []byte, secret string, tr *trace) (sig [64]byte) {
	if st == nil {
		st = hmacPool.Get().(*hmacState)
		defer hmacPool.Put(st)
	}
	crHash := sha256.Sum256(cr)
	key := deriveKey(secret, date[:8], s.Region, s.Service)
	sts := append(st.buf[:0], Algorithm+"\n"...)
	sts = append(sts, date...)
	sts = append(sts, '\n')
	sts = appendScope(sts, date, s.Region, s.Service)
	sts = append(sts, '\n')
	sts = appendHex(sts, crHash[:])
	if tr != nil {
		tr.stringToSign = string(sts)
	}
	mac := key.sum(st, sts)
	if cap(sts) <= maxPooledBuf {
		st.buf = sts[:0] // keep the buffer, if it grew
	}
	putHex(sig[:], mac[:])
	return sig
}

// Presign returns a copy of req's URL signed in its query string (the
// X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders,
// -Security-Token and -Signature parameters, replacing any already there),
// valid from at for expires. req is left unchanged. The host and the headers
// in req.Header (see the package doc) are signed, so whoever uses the URL must
// send the same headers.
//
// expires must be 1 second to 7 days (MaxPresignExpiry); it is truncated to
// whole seconds. payloadHash as for Sign, except that an empty payloadHash
// means UnsignedPayload for S3 and EmptyPayloadHash otherwise.
//
// Errors match ErrNoCredentials, ErrInvalidSigner or ErrInvalidRequest.
func (s *Signer) Presign(req *http.Request, c Credentials, payloadHash string, expires time.Duration, at time.Time) (*url.URL, error) {
	return s.presign(req, &c, payloadHash, expires, at, nil)
}

func (s *Signer) presign(req *http.Request, c *Credentials, payloadHash string, expires time.Duration, at time.Time, tr *trace) (*url.URL, error) {
	if err := s.checkInputs(req, c); err != nil {
		return nil, err
	}
	sg, err := s.newPresigning(req, payloadHash, expires, at)
	if err != nil {
		return nil, err
	}
	var hdrArr [16]hdr
	var nameArr [384]byte
	var ordArr [16]int32
	var candArr [16]candidate
	l, err := presignHeaders(req.Header, sg.host, hdrArr[:0], nameArr[:0], ordArr[:0], candArr[:0])
	if err != nil {
		return nil, err
	}
	var signedArr [256]byte
	signed := l.appendSigned(signedArr[:0])

	var scArr [768]byte
	var pairArr [16]qpair
	var valArr [256]byte
	q := queryBuilder{sc: scArr[:0], pairs: pairArr[:0]}
	if q, err = s.presignQuery(q, req.URL.RawQuery, c, &sg, expires, signed, valArr[:0]); err != nil {
		return nil, err
	}
	path, err := wirePath(req.URL)
	if err != nil {
		return nil, err
	}
	var crArr [1024]byte
	cr, err := s.appendCanonicalRequest(crArr[:0], req.Method, path, "", &q, &l, nil, sg.payloadHash)
	if err != nil {
		return nil, err
	}
	sig := s.signature(nil, cr.b, sg.date[:], c.SecretAccessKey, tr)
	if tr != nil {
		tr.canonical, tr.signedHeaders = string(cr.b), string(signed)
	}
	return presignedURL(req, sg.host, cr.b[cr.query:cr.queryEnd], &sig), nil
}

// newPresigning checks the expiry and resolves the payload hash, the host
// and the date of a Presign.
func (s *Signer) newPresigning(req *http.Request, payloadHash string, expires time.Duration, at time.Time) (sg signing, err error) {
	if expires < time.Second || expires > MaxPresignExpiry {
		return sg, fmt.Errorf("%w: expiry %v is not within 1s to 7 days", ErrInvalidRequest, expires)
	}
	if payloadHash == "" {
		payloadHash = EmptyPayloadHash
		if s.isS3() {
			payloadHash = UnsignedPayload
		}
	}
	if !validPayloadHash(payloadHash) {
		return sg, fmt.Errorf("%w: payload hash %q is neither 64 lower-case hex digits, %s nor a STREAMING-* name", ErrInvalidRequest, payloadHash, UnsignedPayload)
	}
	sg.payloadHash = payloadHash
	sg.host = canonicalHost(req, isHTTPS(req))
	if sg.host == "" {
		return sg, fmt.Errorf("%w: the request has no host", ErrInvalidRequest)
	}
	if err := checkTime(at); err != nil {
		return sg, err
	}
	if vs, ok := req.Header[keyLength]; ok {
		if err := checkContentLength(req, vs, ok); err != nil {
			return sg, err
		}
	}
	sg.date = amzDateOf(at)
	return sg, nil
}

// presignHeaders returns the sorted header list of a Presign: host and the
// headers of h, in the arrays given.
func presignHeaders(h http.Header, host string, hs []hdr, names []byte, ord []int32, cands []candidate) (headerList, error) {
	cands, found := gather(cands, h, collectOptions{})
	hs, names = addComputed(hs, names, "host", host, rawHdr, srcHost)
	hs, names = collect(hs, names, cands, collectOptions{}, &found)
	if found.bad != "" {
		return headerList{}, fmt.Errorf("%w: header name %q is not a valid HTTP token", ErrInvalidRequest, found.bad)
	}
	l := headerList{hs: hs, names: names, cands: cands}
	l.ord = sortHeaders(ord, l)
	return l, nil
}

// presignQuery adds to q the parameters of rawQuery but the presigning
// ones, and the presigning ones of this signing but X-Amz-Signature; val is
// a scratch buffer.
func (s *Signer) presignQuery(q queryBuilder, rawQuery string, c *Credentials, sg *signing, expires time.Duration, signed, val []byte) (queryBuilder, error) {
	q, err := q.addRaw(rawQuery, skipPresign)
	if err != nil {
		return q, err
	}
	v := append(val, c.AccessKeyID...)
	v = append(v, '/')
	v = appendScope(v, sg.date[:], s.Region, s.Service)
	q = q.add("X-Amz-Algorithm", Algorithm)
	q = addParam(q, "X-Amz-Credential", v)
	q = addParam(q, "X-Amz-Date", sg.date[:])
	q = addParam(q, "X-Amz-Expires", strconv.AppendInt(val[:0], int64(expires/time.Second), 10))
	if c.SessionToken != "" {
		q = q.add("X-Amz-Security-Token", c.SessionToken)
	}
	return addParam(q, "X-Amz-SignedHeaders", signed), nil
}

// presignedURL returns a copy of req's URL with the canonical query (in
// which the parameters are encoded as they must be sent) and the
// signature as its query, and the host as signed.
func presignedURL(req *http.Request, host string, query []byte, sig *[64]byte) *url.URL {
	var rawArr [1024]byte
	raw := append(rawArr[:0], query...)
	raw = append(raw, "&X-Amz-Signature="...)
	raw = append(raw, sig[:]...)

	u := new(url.URL)
	*u = *req.URL
	if (req.Host == "" || req.Host == u.Host) && u.Host != host {
		u.Host = host // without the default port, as signed
	}
	if u.User != nil {
		uu := *u.User
		u.User = &uu
	}
	u.RawQuery = string(raw)
	u.ForceQuery = false
	return u
}
