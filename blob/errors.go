package blob

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The sentinels. Every error a Bucket (or its Reader or Writer) returns
// matches exactly one of them with errors.Is, apart from io.EOF at the end of
// a read.
var (
	// ErrNotFound: the object (or the bucket) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrPreconditionFailed: IfNotExist or IfMatch lost.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrPermissionDenied: the credentials are valid but not allowed to do this.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrUnauthenticated: no credentials, or credentials the service rejects.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrInvalidArgument: a bad key, option or argument.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotImplemented: the backend cannot do this.
	ErrNotImplemented = errors.New("not implemented")
	// ErrThrottled: the service asked to slow down, and retries ran out.
	ErrThrottled = errors.New("throttled")
	// ErrCanceled: the context was canceled or its deadline passed.
	ErrCanceled = errors.New("canceled")
	// ErrInternal: anything else.
	ErrInternal = errors.New("internal error")
)

var sentinels = []error{
	ErrNotFound, ErrPreconditionFailed, ErrPermissionDenied, ErrUnauthenticated,
	ErrInvalidArgument, ErrNotImplemented, ErrThrottled, ErrCanceled, ErrInternal,
}

// Error is the concrete type of every error a Bucket returns, in the manner
// of fs.PathError. errors.Is with a sentinel answers from Kind alone, so an
// Error matches exactly one sentinel even when its cause wraps another;
// errors.Is with any other target (context.Canceled, a driver's own
// sentinel) and errors.As look into the cause, so the provider's native
// error is still reachable. Error has no Unwrap method for that reason; use
// errors.As, or the Err field.
//
// Its message is one line: the operation, provider, bucket and key, the
// kind, the provider's code, status and request ID (each once), and the
// cause's message. A key longer than 100 bytes is cut, with its length.
// Providers must not put secrets in the cause; nothing in Error adds one.
type Error struct {
	// Kind is one of the sentinels; nil is treated as ErrInternal.
	Kind error
	// Op is the operation: OpRead, OpWrite, OpAttributes, OpList, OpDelete,
	// OpCopy, OpSign, OpOpen or OpClose.
	Op string
	// Provider is the provider's scheme: "s3", "azblob", "gs", "file", "mem".
	Provider string
	// Bucket is the bucket, container or directory name.
	Bucket string
	// Key is the object key, when the operation has one (for a Copy whose
	// source is missing, the source; for List, the prefix).
	Key string
	// Code is the provider's own error code ("NoSuchKey", "BlobNotFound").
	Code string
	// Status is the HTTP status, when there was one.
	Status int
	// RequestID is the provider's request ID, when it sent one.
	RequestID string
	// Err is the cause; nil when there is none.
	Err error

	// msg, when set, is the cause's message as the driver worded it
	// (ErrorDetail.Message), printed instead of Err's text.
	msg string
}

// maxKeyInMessage is how much of a key an error message shows.
const maxKeyInMessage = 100

// Error formats every field that is set, on one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("blob: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(" ")
	}
	if e.Provider != "" || e.Bucket != "" {
		b.WriteString(e.Provider)
		b.WriteString("://")
		b.WriteString(e.Bucket)
		b.WriteString(" ")
	}
	if e.Key != "" {
		writeKey(&b, e.Key)
		b.WriteString(" ")
	}
	s := strings.TrimSuffix(b.String(), " ")
	b.Reset()
	b.WriteString(s)
	b.WriteString(": ")
	b.WriteString(e.kind().Error())
	var extra []string
	if e.Code != "" {
		extra = append(extra, e.Code)
	}
	if e.Status != 0 {
		extra = append(extra, fmt.Sprintf("status %d", e.Status))
	}
	if e.RequestID != "" {
		extra = append(extra, "request id "+e.RequestID)
	}
	if len(extra) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(extra, ", "))
		b.WriteString(")")
	}
	if msg := e.causeText(); msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	return b.String()
}

// causeText is the cause's message folded onto one line, or "" when it says
// nothing the rest of the message does not.
func (e *Error) causeText() string {
	msg := e.msg
	if msg == "" && e.Err != nil && e.Err != e.Kind {
		msg = e.Err.Error()
	}
	msg = RedactURLSecrets(oneLine(msg))
	if strings.EqualFold(msg, e.kind().Error()) {
		return ""
	}
	return msg
}

// secretParams are the URL query parameters that carry a secret: SAS and
// signed-URL signatures, SigV4 presigned credentials and tokens, OAuth
// tokens.
var secretParams = []string{
	"sig", "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
	"x-goog-signature", "x-goog-credential", "access_token", "id_token", "token", "client_secret",
}

// RedactURLSecrets returns s with the values of the URL query parameters
// that carry secrets (sig, X-Amz-Signature, X-Amz-Credential,
// X-Amz-Security-Token, X-Goog-Signature, access_token, ...) replaced by
// "REDACTED", wherever a URL appears in it. Every *Error's message passes
// through it, so a transport error quoting a SAS or presigned URL does not
// carry its signature into logs; use it on text of your own that may quote
// such URLs.
func RedactURLSecrets(s string) string {
	if !strings.ContainsRune(s, '=') {
		return s
	}
	lower := strings.ToLower(s)
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '?' && s[i] != '&' {
			continue
		}
		for _, p := range secretParams {
			j := i + 1 + len(p)
			if j < len(s) && s[j] == '=' && lower[i+1:j] == p {
				end := j + 1
				for end < len(s) && !strings.ContainsRune("&# \t\"')>", rune(s[end])) {
					end++
				}
				b.WriteString(s[last : j+1])
				b.WriteString("REDACTED")
				last = end
				i = end - 1
				break
			}
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// oneLine folds a many-line message onto one line: its lines, trimmed and
// without the empty ones, joined by "; " (by a space after a line that
// ends in ':'), so a report of several entries stays readable.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	for line := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			if strings.HasSuffix(b.String(), ":") {
				b.WriteString(" ")
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

// writeKey writes key quoted, cut to maxKeyInMessage bytes (on a rune
// boundary) with its length when longer.
func writeKey(b *strings.Builder, key string) {
	if len(key) <= maxKeyInMessage {
		fmt.Fprintf(b, "%q", key)
		return
	}
	cut := maxKeyInMessage
	for cut > 0 && !utf8.RuneStart(key[cut]) {
		cut--
	}
	fmt.Fprintf(b, "%q... (%d bytes)", key[:cut], len(key))
}

func (e *Error) kind() error {
	if e.Kind == nil || !isSentinel(e.Kind) {
		return ErrInternal
	}
	return e.Kind
}

// Is reports whether target is e's Kind when target is one of the
// sentinels, and whether the cause matches target otherwise.
func (e *Error) Is(target error) bool {
	if isSentinel(target) {
		return target == e.kind()
	}
	return e.Err != nil && errors.Is(e.Err, target)
}

// As finds the first error in the cause's chain that matches target, as
// errors.As does.
func (e *Error) As(target any) bool {
	return e.Err != nil && errors.As(e.Err, target)
}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if err == s {
			return true
		}
	}
	return false
}

// Errorf returns a *Error of the given kind whose cause is a new error with
// the formatted message. Drivers and decorators use it for errors of their
// own making; NewBucket fills in Op, Provider, Bucket and Key.
func Errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// KindOf returns the sentinel err matches: the Kind of a *Error in its
// chain, else the first sentinel errors.Is finds, else ErrCanceled for
// context errors, else ErrInternal. It returns nil for a nil error.
func KindOf(err error) error {
	if err == nil {
		return nil
	}
	var be *Error
	if errors.As(err, &be) {
		return be.kind()
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ErrCanceled
	}
	return ErrInternal
}

// wrapError turns any error into a *Error with exactly one sentinel and the
// operation's context filled in. A *Error (from Errorf, or a decorator) is
// taken as it is; any other error is classified by d's ErrorDetail (d may be
// nil, for errors with no driver), else by KindOf. A canceled or expired
// ctx makes the kind ErrCanceled whatever the provider said, since the
// provider's error is then usually a side effect of the cancelation.
func wrapError(ctx context.Context, err error, d Driver, provider, bucket, op, key string) error {
	if err == nil {
		return nil
	}
	out := classify(err, d)
	if ctx != nil && ctx.Err() != nil {
		out.Kind = ErrCanceled
	}
	if out.Provider == "" {
		out.Provider = provider
	}
	if out.Bucket == "" {
		out.Bucket = bucket
	}
	if out.Op == "" {
		out.Op = op
	}
	if out.Key == "" {
		out.Key = key
	}
	return &out
}

// classify is err as an Error with its kind and the driver's details.
func classify(err error, d Driver) Error {
	var out Error
	if be, ok := err.(*Error); ok {
		out = *be
	} else if detail := errorDetail(d, err); detail.Kind != nil {
		out = Error{Kind: detail.Kind, Code: detail.Code, Status: detail.Status, RequestID: detail.RequestID, Err: err, msg: detail.Message}
	} else {
		out = Error{Kind: KindOf(err), Err: err}
	}
	if out.Kind == nil || !isSentinel(out.Kind) {
		out.Kind = ErrInternal
	}
	if out.Err == out.Kind {
		out.Err = nil
	}
	return out
}

// errorDetail asks d about err, when there is a driver and err is native.
func errorDetail(d Driver, err error) ErrorDetail {
	var be *Error
	if d == nil || errors.As(err, &be) {
		return ErrorDetail{}
	}
	return d.ErrorDetail(err)
}

// driverKind is the sentinel err means, for the shared layer's own rules
// (Delete of an absent key is nil, Copy names the missing source).
func driverKind(d Driver, err error) error {
	if err == nil {
		return nil
	}
	if k := errorDetail(d, err).Kind; k != nil {
		return k
	}
	return KindOf(err)
}

// OpenError returns err as the error a provider's constructor or URL opener
// returns: a *Error with Op OpOpen and the provider and bucket filled in
// where err does not already say them. A *Error (from Errorf) keeps its
// kind; any other error is classified by KindOf. It returns nil for nil.
func OpenError(provider, bucket string, err error) error {
	return wrapError(nil, err, nil, provider, bucket, OpOpen, "")
}

// DetailError returns err as a *Error of the kind and details d says it
// has, as the shared layer classifies a driver's native error: for the
// provider calls made outside a Bucket (Provider.CreateBucket, say). A nil
// err returns nil; a zero d classifies err by KindOf; the operation and
// names are filled in by whoever wraps it next.
func DetailError(err error, d ErrorDetail) error {
	if err == nil {
		return nil
	}
	var be *Error
	if errors.As(err, &be) {
		return err
	}
	out := Error{Kind: d.Kind, Code: d.Code, Status: d.Status, RequestID: d.RequestID, Err: err, msg: d.Message}
	if out.Kind == nil || !isSentinel(out.Kind) {
		out.Kind = KindOf(err)
	}
	return &out
}
