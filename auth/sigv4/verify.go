package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Error codes a Verifier reports, as S3 names them.
const (
	CodeAccessDenied                      = "AccessDenied"
	CodeSignatureDoesNotMatch             = "SignatureDoesNotMatch"
	CodeRequestTimeTooSkewed              = "RequestTimeTooSkewed"
	CodeExpiredToken                      = "ExpiredToken"
	CodeInvalidToken                      = "InvalidToken"
	CodeInvalidAccessKeyID                = "InvalidAccessKeyId"
	CodeAuthorizationHeaderMalformed      = "AuthorizationHeaderMalformed"
	CodeAuthorizationQueryParametersError = "AuthorizationQueryParametersError"
	CodeXAmzContentSHA256Mismatch         = "XAmzContentSHA256Mismatch"
	CodeIncompleteBody                    = "IncompleteBody"
	CodeBadDigest                         = "BadDigest"
	CodeEntityTooLarge                    = "EntityTooLarge"
	CodeInternalError                     = "InternalError"
)

var (
	// ErrNotAuthenticated matches every *VerifyError: the request is not
	// (correctly) signed.
	ErrNotAuthenticated = errors.New("sigv4: request not authenticated")
	// ErrUnknownAccessKey is what a Verifier.Credentials function returns
	// (possibly wrapped) for an access key ID it does not know; the
	// verifier then answers InvalidAccessKeyId. Any other error from it is
	// an InternalError (500).
	ErrUnknownAccessKey = errors.New("sigv4: unknown access key ID")
)

// VerifyError says why a request failed verification. Code is one of the
// Code* constants (stable, S3's names), Status the HTTP status to answer
// (403, or 400 for a malformed request, 500 for a failing credentials
// lookup), Message names the failed check. It matches ErrNotAuthenticated,
// and Err (the cause, when there is one) with errors.Is.
type VerifyError struct {
	Code    string
	Status  int
	Message string
	Err     error
}

// Error returns "sigv4: <Code>: <Message>", and the cause when there is one.
func (e *VerifyError) Error() string {
	if e.Err != nil {
		return "sigv4: " + e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return "sigv4: " + e.Code + ": " + e.Message
}

// Unwrap returns ErrNotAuthenticated and the cause.
func (e *VerifyError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrNotAuthenticated, e.Err}
	}
	return []error{ErrNotAuthenticated}
}

func verr(code string, status int, format string, args ...any) *VerifyError {
	return &VerifyError{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// Identity is who signed a verified request.
type Identity struct {
	// AccessKeyID is the key the request was signed with.
	AccessKeyID string
	// AccountID and Source are those of the Credentials the lookup returned.
	AccountID, Source string
	// Region and Service are the credential scope's.
	Region, Service string
	// SignedAt is X-Amz-Date.
	SignedAt time.Time
	// Presigned is true for a query-string (presigned URL) signature;
	// Expires is then when it stops being valid.
	Presigned bool
	Expires   time.Time
	// SignedHeaders lists the lower-case names of the signed headers.
	SignedHeaders []string
	// PayloadHash is the payload hash that was signed: hex, UNSIGNED-PAYLOAD
	// or a STREAMING-* name.
	PayloadHash string
}

// DefaultMaxSkew is the clock skew a Verifier allows when MaxSkew is 0.
const DefaultMaxSkew = 15 * time.Minute

// DefaultMaxBufferedBody is how much body a Verifier reads into memory, when
// MaxBufferedBody is 0, to hash a body that was signed without an
// X-Amz-Content-Sha256 header (other services than S3 sign so).
const DefaultMaxBufferedBody = 16 << 20

// Verifier checks SigV4-signed requests (Authorization header or presigned
// query string) for one service and region, the way AWS does.
//
// Credentials looks up the credentials of an access key ID; it must be set.
// MaxSkew 0 means DefaultMaxSkew; Now nil means time.Now. For S3
// ("s3", ...) and when the Disable* fields are set, paths are treated as by
// a Signer with the same settings. A Verifier is safe for concurrent use
// when Credentials is.
type Verifier struct {
	Service, Region string
	Credentials     func(ctx context.Context, accessKeyID string) (Credentials, error)
	MaxSkew         time.Duration
	Now             func() time.Time

	// DisableDoubleEncoding and DisablePathNormalization as in Signer.
	DisableDoubleEncoding, DisablePathNormalization bool
	// MaxBufferedBody bounds the body read into memory to hash it when the
	// request carries no X-Amz-Content-Sha256 header; a longer body fails
	// with EntityTooLarge. 0 means DefaultMaxBufferedBody.
	MaxBufferedBody int64
}

// authFields are the parsed parts of a signature, from either form.
type authFields struct {
	presigned     bool
	credential    string
	signedHeaders string
	signature     string
	date          string
	expires       string
	token         string
	tokenSet      bool
	scopeDay      string // the credential scope's date, set by checkScope
}

// malformed is the code of a malformed signature of f's form.
func (f *authFields) malformed() string {
	if f.presigned {
		return CodeAuthorizationQueryParametersError
	}
	return CodeAuthorizationHeaderMalformed
}

// Verify checks req's signature and returns who signed it.
//
// It rejects, with a *VerifyError (matching ErrNotAuthenticated) whose
// Code and Message name the failed check: another algorithm; a missing,
// repeated or unknown field; a malformed credential scope (wrong service
// or region, terminator not aws4_request, scope date not X-Amz-Date's day);
// a missing or malformed X-Amz-Date or one more than MaxSkew off (for a
// presigned URL, only in the future); an X-Amz-Expires that is not a number
// within 1 to 604800, is repeated or has elapsed; host not signed, a signed
// header missing, an x-amz-* header present but not signed; an unknown
// access key, expired credentials or a session token that does not match;
// and a signature that does not match (compared in constant time).
//
// When the signature is good, Verify may replace req.Body with a reader
// that checks the payload as the handler reads it: against the signed
// X-Amz-Content-Sha256 (the handler gets the whole body, then a
// XAmzContentSHA256Mismatch *VerifyError instead of io.EOF), or decoding
// aws-chunked bodies (chunk signatures, the final chunk, the decoded length,
// the checksum trailer named in X-Amz-Trailer: CRC32, CRC32C, CRC64NVME,
// SHA1 or SHA256), where no unverified chunk is handed out. Bodies
// signed without X-Amz-Content-Sha256 are read (up to MaxBufferedBody) and
// hashed before Verify returns.
func (v *Verifier) Verify(req *http.Request) (*Identity, error) {
	signer, err := v.signer()
	if err != nil {
		return nil, err
	}
	f, err := v.fields(req)
	if err != nil {
		return nil, err
	}
	t := v.now()
	id, err := v.checkScope(&f)
	if err != nil {
		return nil, err
	}
	if err := v.checkDate(&f, id, t); err != nil {
		return nil, err
	}
	l, err := signedHeaders(req, &f)
	if err != nil {
		return nil, err
	}
	id.SignedHeaders = l.list
	buffered, err := v.payloadHash(req, &f, signer.isS3(), id)
	if err != nil {
		return nil, err
	}
	creds, err := v.credentials(req.Context(), &f, id.AccessKeyID, t)
	if err != nil {
		return nil, err
	}
	id.AccountID, id.Source = creds.AccountID, creds.Source
	want, err := checkSignature(req, signer, &f, &l.headerList, id.PayloadHash, creds.SecretAccessKey)
	if err != nil {
		return nil, err
	}
	if err := v.wrapBody(req, signer, &f, &creds, id.PayloadHash, buffered, want); err != nil {
		return nil, err
	}
	return id, nil
}

// signer returns the Signer that computes the signatures v expects, or an
// InternalError when v is not set up.
func (v *Verifier) signer() (*Signer, error) {
	if v.Credentials == nil {
		return nil, &VerifyError{Code: CodeInternalError, Status: http.StatusInternalServerError, Message: "Verifier.Credentials is not set"}
	}
	s := &Signer{Service: v.Service, Region: v.Region, DisableDoubleEncoding: v.DisableDoubleEncoding, DisablePathNormalization: v.DisablePathNormalization}
	if err := s.check(); err != nil {
		return nil, &VerifyError{Code: CodeInternalError, Status: http.StatusInternalServerError, Message: "bad Verifier configuration", Err: err}
	}
	return s, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew <= 0 {
		return DefaultMaxSkew
	}
	return v.MaxSkew
}

// checkScope checks the credential scope (<access key>/<date>/<region>/
// <service>/aws4_request) against v and returns an Identity holding its
// access key, region and service. The date is checked by checkDate.
func (v *Verifier) checkScope(f *authFields) (*Identity, error) {
	bad := f.malformed()
	parts := strings.Split(f.credential, "/")
	if len(parts) != 5 || parts[0] == "" {
		return nil, verr(bad, 400, "the Credential %q is not <access key>/<date>/<region>/<service>/aws4_request", f.credential)
	}
	akid, region, service, term := parts[0], parts[2], parts[3], parts[4]
	if term != "aws4_request" {
		return nil, verr(bad, 400, "the credential scope ends in %q, not aws4_request", term)
	}
	if region != v.Region {
		return nil, verr(bad, 400, "the credential scope's region %q is wrong; expecting %q", region, v.Region)
	}
	if service != v.Service {
		return nil, verr(bad, 400, "the credential scope's service %q is wrong; expecting %q", service, v.Service)
	}
	f.scopeDay = parts[1]
	return &Identity{AccessKeyID: akid, Region: region, Service: service, Presigned: f.presigned}, nil
}

// checkDate parses X-Amz-Date, checks that the scope's date is its day and
// that it is within MaxSkew of t (for a presigned URL: not too far in the
// future, and not expired), and sets id.SignedAt and id.Expires.
func (v *Verifier) checkDate(f *authFields, id *Identity, t time.Time) error {
	bad := f.malformed()
	signedAt, err := time.Parse("20060102T150405Z", f.date)
	if err != nil || len(f.date) != 16 {
		return verr(bad, 400, "X-Amz-Date %q is not in the form 20060102T150405Z", f.date)
	}
	if f.scopeDay != f.date[:8] {
		return verr(bad, 400, "the credential scope's date %q is not X-Amz-Date's day %q", f.scopeDay, f.date[:8])
	}
	id.SignedAt = signedAt
	skew := v.maxSkew()
	if !f.presigned {
		if d := t.Sub(signedAt); d > skew || -d > skew {
			return verr(CodeRequestTimeTooSkewed, 403, "X-Amz-Date %s is %v off the server time (more than %v)", f.date, d.Round(time.Second), skew)
		}
		return nil
	}
	secs, err := strconv.ParseInt(f.expires, 10, 64)
	if err != nil || secs < 1 || secs > int64(MaxPresignExpiry/time.Second) || strings.TrimLeft(f.expires, "0123456789") != "" {
		return verr(bad, 400, "X-Amz-Expires %q is not a number of seconds within 1 to 604800", f.expires)
	}
	if signedAt.Sub(t) > skew {
		return verr(CodeRequestTimeTooSkewed, 403, "X-Amz-Date %s is %v in the future (more than %v)", f.date, signedAt.Sub(t).Round(time.Second), skew)
	}
	id.Expires = signedAt.Add(time.Duration(secs) * time.Second)
	if !t.Before(id.Expires) {
		return verr(CodeAccessDenied, 403, "Request has expired: the URL expired at %s", id.Expires.Format(time.RFC3339))
	}
	return nil
}

// signedList is the header list of a request as SignedHeaders names it,
// with the names.
type signedList struct {
	headerList
	list []string
}

// signedHeaders checks SignedHeaders (sorted, lower-case, host among them)
// and collects the values of the headers it names from req; every x-amz-*
// header of req must be signed.
func signedHeaders(req *http.Request, f *authFields) (l signedList, err error) {
	bad := f.malformed()
	if f.signedHeaders == "" {
		return l, verr(bad, 400, "SignedHeaders is empty")
	}
	names := strings.Split(f.signedHeaders, ";")
	hs, lowered := make([]hdr, 0, len(names)), make([]byte, 0, len(f.signedHeaders))
	hostSigned := false
	for i, n := range names {
		if n == "" || strings.ToLower(n) != n {
			return l, verr(bad, 400, "SignedHeaders %q holds an empty or upper-case name", f.signedHeaders)
		}
		if i > 0 && names[i-1] >= n {
			return l, verr(bad, 400, "SignedHeaders %q is not sorted or repeats a name", f.signedHeaders)
		}
		if n == "host" {
			hostSigned = true
			hs, lowered = addComputed(hs, lowered, n, canonicalHost(req, req.TLS != nil), rawHdr, srcHost)
			continue
		}
		vals, ok := signedValues(req, n)
		if !ok {
			return l, verr(CodeAccessDenied, 403, "the signed header %q is missing from the request", n)
		}
		at := len(lowered)
		lowered = append(lowered, n...)
		hs = addLower(hs, lowered, at, vals, 0)
	}
	if !hostSigned {
		return l, verr(CodeAccessDenied, 403, "the host header is not signed")
	}
	if err := checkAmzSigned(req.Header, names); err != nil {
		return l, err
	}
	l.headerList = headerList{hs: hs, names: lowered}
	l.ord = sortHeaders(nil, l.headerList) // SignedHeaders is sorted: the order stays, and the list written is f.signedHeaders
	l.list = names
	return l, nil
}

// signedValues returns the values of the header named n (lower case), as
// received; Content-Length, which net/http takes out of the header, is
// req.ContentLength when known.
func signedValues(req *http.Request, n string) ([]string, bool) {
	vals, ok := req.Header[http.CanonicalHeaderKey(n)]
	if !ok && n == "content-length" && req.ContentLength >= 0 {
		return []string{strconv.FormatInt(req.ContentLength, 10)}, true
	}
	return vals, ok
}

// checkAmzSigned rejects an x-amz-* header of h that is not among the
// signed names.
func checkAmzSigned(h http.Header, names []string) error {
	for k := range h {
		if len(k) > 6 && strings.EqualFold(k[:6], "x-amz-") {
			lk := strings.ToLower(k)
			if _, found := findString(names, lk); !found {
				return verr(CodeAccessDenied, 403, "the header %q is present but not signed", lk)
			}
		}
	}
	return nil
}

// payloadHash sets id.PayloadHash to the payload hash that was signed:
// X-Amz-Content-Sha256, UNSIGNED-PAYLOAD for a presigned S3 URL without
// it, else the hash of the body, which it then reads and returns.
func (v *Verifier) payloadHash(req *http.Request, f *authFields, s3 bool, id *Identity) (buffered []byte, err error) {
	payload := req.Header.Get("X-Amz-Content-Sha256")
	switch {
	case payload != "":
		if !validPayloadHash(payload) {
			return nil, verr(CodeAuthorizationHeaderMalformed, 400, "X-Amz-Content-Sha256 %q is neither a hex SHA-256, UNSIGNED-PAYLOAD nor a STREAMING-* name", payload)
		}
	case f.presigned && s3:
		payload = UnsignedPayload
	default:
		buffered, payload, err = v.hashBody(req)
		if err != nil {
			return nil, err
		}
	}
	id.PayloadHash = payload
	return buffered, nil
}

// credentials looks up the credentials of akid and checks that they hold
// a secret key, have not expired at t and carry the session token that was
// signed.
func (v *Verifier) credentials(ctx context.Context, f *authFields, akid string, t time.Time) (Credentials, error) {
	creds, err := v.Credentials(ctx, akid)
	if err != nil {
		if errors.Is(err, ErrUnknownAccessKey) {
			return creds, &VerifyError{Code: CodeInvalidAccessKeyID, Status: 403, Message: fmt.Sprintf("the access key ID %q does not exist", akid), Err: err}
		}
		return creds, &VerifyError{Code: CodeInternalError, Status: 500, Message: "looking up the credentials failed", Err: err}
	}
	if creds.SecretAccessKey == "" {
		return creds, verr(CodeInvalidAccessKeyID, 403, "the access key ID %q has no secret key", akid)
	}
	if creds.Expired(t) {
		return creds, verr(CodeExpiredToken, 400, "the credentials of %q expired at %s", akid, creds.Expires.UTC().Format(time.RFC3339))
	}
	if creds.SessionToken != "" || f.tokenSet {
		if subtle.ConstantTimeCompare([]byte(creds.SessionToken), []byte(f.token)) != 1 {
			return creds, verr(CodeInvalidToken, 403, "the security token does not match the access key ID %q", akid)
		}
	}
	return creds, nil
}

// checkSignature computes the signature of req under secret and compares
// it with the one given, in constant time; it returns the signature (the
// seed of a streaming body's chunk signatures).
func checkSignature(req *http.Request, s *Signer, f *authFields, l *headerList, payload, secret string) (want [64]byte, err error) {
	cr, err := verifyCanonicalRequest(req, s, f, l, payload)
	if err != nil {
		return want, verr(CodeSignatureDoesNotMatch, 403, "%v", err)
	}
	want = s.signature(nil, cr, []byte(f.date), secret, nil)
	if len(f.signature) != 64 || subtle.ConstantTimeCompare(want[:], []byte(f.signature)) != 1 {
		return want, verr(CodeSignatureDoesNotMatch, 403, "the request signature we calculated does not match the signature you provided; check your key and signing method")
	}
	return want, nil
}

// verifyCanonicalRequest builds the canonical request of req as received,
// without the X-Amz-Signature parameter of a presigned URL.
func verifyCanonicalRequest(req *http.Request, s *Signer, f *authFields, l *headerList, payload string) ([]byte, error) {
	path, err := verifyPath(req)
	if err != nil {
		return nil, err
	}
	rawQuery := req.URL.RawQuery
	var q *queryBuilder
	if f.presigned {
		qb, err := queryBuilder{}.addRaw(rawQuery, skipSignature)
		if err != nil {
			return nil, err
		}
		q = &qb
	}
	cr, err := s.appendCanonicalRequest(make([]byte, 0, 1024), req.Method, path, rawQuery, q, l, nil, payload)
	return cr.b, err
}

// wrapBody gives the handler a body that is checked as it reads it (see
// Verify), or the buffered body that was hashed; a request without a body
// must have signed the empty body's hash.
func (v *Verifier) wrapBody(req *http.Request, s *Signer, f *authFields, creds *Credentials, payload string, buffered []byte, want [64]byte) error {
	switch {
	case buffered != nil:
		req.Body = io.NopCloser(bytes.NewReader(buffered))
	case strings.HasPrefix(payload, "STREAMING-"):
		return v.wrapStreaming(req, s, payload, f, creds, want)
	case payload != UnsignedPayload && req.Body != nil && req.Body != http.NoBody:
		var sum [32]byte
		hex.Decode(sum[:], []byte(payload))
		req.Body = &hashCheckReader{rc: req.Body, h: sha256.New(), want: sum}
	case payload != UnsignedPayload && payload != EmptyPayloadHash:
		return verr(CodeXAmzContentSHA256Mismatch, 400, "the request has no body but X-Amz-Content-Sha256 is not the hash of an empty body")
	}
	return nil
}

func findString(list []string, s string) (int, bool) {
	for i, x := range list {
		if x == s {
			return i, true
		}
	}
	return -1, false
}

// verifyPath returns the path as received: from RequestURI when the
// request came from a server, else as a client would send it.
func verifyPath(req *http.Request) (string, error) {
	if ru := req.RequestURI; ru != "" && ru != "*" {
		p, _, _ := strings.Cut(ru, "?")
		if !strings.HasPrefix(p, "/") {
			// absolute-form: scheme://host/path
			if i := strings.Index(p, "://"); i >= 0 {
				rest := p[i+3:]
				j := strings.IndexByte(rest, '/')
				if j < 0 {
					return "/", nil
				}
				return rest[j:], nil
			}
			return "", fmt.Errorf("request target %q has no path", ru)
		}
		return p, nil
	}
	if req.URL == nil {
		return "", errors.New("the request has no URL")
	}
	return wirePath(req.URL)
}

// fields reads the signature fields from the Authorization header or the
// query string, insisting on one of the two.
func (v *Verifier) fields(req *http.Request) (authFields, error) {
	var f authFields
	auth, hasAuth := req.Header["Authorization"]
	if req.URL == nil {
		return f, verr(CodeAccessDenied, 403, "the request has no URL")
	}
	query, qerr := url.ParseQuery(req.URL.RawQuery)
	_, hasAlg := query["X-Amz-Algorithm"]
	switch {
	case hasAuth && hasAlg:
		return f, verr(CodeAuthorizationQueryParametersError, 400, "only one auth mechanism allowed: both an Authorization header and X-Amz-Algorithm")
	case hasAuth:
		if len(auth) != 1 {
			return f, verr(CodeAuthorizationHeaderMalformed, 400, "the Authorization header is repeated")
		}
		return parseAuthorization(req, auth[0])
	case hasAlg:
		if qerr != nil {
			return f, verr(CodeAuthorizationQueryParametersError, 400, "the query string is malformed: %v", qerr)
		}
		return parseQueryAuth(query)
	}
	return f, verr(CodeAccessDenied, 403, "the request is not signed: no Authorization header or X-Amz-Algorithm parameter")
}

func parseAuthorization(req *http.Request, auth string) (authFields, error) {
	f := authFields{}
	const bad = CodeAuthorizationHeaderMalformed
	alg, rest, ok := strings.Cut(auth, " ")
	if alg != Algorithm {
		return f, verr(CodeAccessDenied, 403, "the authorization algorithm %q is not supported; use %s", truncate(alg), Algorithm)
	}
	if !ok {
		return f, verr(bad, 400, "the Authorization header has no fields")
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return f, verr(bad, 400, "the Authorization field %q is not name=value", truncate(part))
		}
		if seen[k] {
			return f, verr(bad, 400, "the Authorization field %s is repeated", truncate(k))
		}
		seen[k] = true
		switch k {
		case "Credential":
			f.credential = val
		case "SignedHeaders":
			f.signedHeaders = val
		case "Signature":
			f.signature = val
		default:
			return f, verr(bad, 400, "the Authorization field %q is unknown", truncate(k))
		}
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[k] {
			return f, verr(bad, 400, "the Authorization header lacks the %s field", k)
		}
	}
	dates := req.Header.Values("X-Amz-Date")
	switch len(dates) {
	case 0:
		return f, verr(CodeAccessDenied, 403, "X-Amz-Date is missing")
	case 1:
		f.date = dates[0]
	default:
		return f, verr(bad, 400, "X-Amz-Date is repeated")
	}
	if toks, ok := req.Header["X-Amz-Security-Token"]; ok {
		if len(toks) != 1 {
			return f, verr(bad, 400, "X-Amz-Security-Token is repeated")
		}
		f.token, f.tokenSet = toks[0], true
	}
	return f, nil
}

func parseQueryAuth(q url.Values) (authFields, error) {
	f := authFields{presigned: true}
	const bad = CodeAuthorizationQueryParametersError
	one := func(name string, optional bool) (string, bool, error) {
		vs, ok := q[name]
		switch {
		case !ok && optional:
			return "", false, nil
		case !ok:
			return "", false, verr(bad, 400, "the query parameter %s is missing", name)
		case len(vs) != 1:
			return "", false, verr(bad, 400, "the query parameter %s is repeated", name)
		}
		return vs[0], true, nil
	}
	alg, _, err := one("X-Amz-Algorithm", false)
	if err != nil {
		return f, err
	}
	if alg != Algorithm {
		return f, verr(bad, 400, "X-Amz-Algorithm %q is not supported; use %s", truncate(alg), Algorithm)
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"X-Amz-Credential", &f.credential}, {"X-Amz-Date", &f.date}, {"X-Amz-Expires", &f.expires}, {"X-Amz-SignedHeaders", &f.signedHeaders}, {"X-Amz-Signature", &f.signature}} {
		if *p.dst, _, err = one(p.name, false); err != nil {
			return f, err
		}
	}
	if f.token, f.tokenSet, err = one("X-Amz-Security-Token", true); err != nil {
		return f, err
	}
	return f, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// hashBody reads the body (up to MaxBufferedBody) and returns it with its
// hex SHA-256.
func (v *Verifier) hashBody(req *http.Request) ([]byte, string, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, EmptyPayloadHash, nil
	}
	limit := v.MaxBufferedBody
	if limit <= 0 {
		limit = DefaultMaxBufferedBody
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		return nil, "", &VerifyError{Code: CodeIncompleteBody, Status: 400, Message: "reading the body to hash it failed", Err: err}
	}
	if int64(len(b)) > limit {
		return nil, "", verr(CodeEntityTooLarge, 400, "the body exceeds %d bytes and carries no X-Amz-Content-Sha256 header", limit)
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:]), nil
}

// hashCheckReader passes the body through and, at its end, returns a
// XAmzContentSHA256Mismatch error instead of io.EOF when the hash differs.
type hashCheckReader struct {
	rc   io.ReadCloser
	h    hash.Hash
	want [32]byte
	err  error
}

func (r *hashCheckReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.rc.Read(p)
	r.h.Write(p[:n])
	if err == io.EOF {
		var got [32]byte
		r.h.Sum(got[:0])
		if got != r.want {
			r.err = verr(CodeXAmzContentSHA256Mismatch, 400, "the body's SHA-256 %x is not the X-Amz-Content-Sha256 %x", got, r.want)
			return n, r.err
		}
		r.err = io.EOF
	}
	return n, err
}

func (r *hashCheckReader) Close() error { return r.rc.Close() }
