package aws

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/errkind"
	"github.com/anyblob/anyblob/internal/retry"
)

// Error is an error response from S3: the XML <Error> document, or for a
// response without one (HEAD, for instance) the status alone. Bucket errors
// carry it as their cause, so errors.As(err, &s3err) reaches it while
// blob.ErrNotFound and the other sentinels answer from s3Codes.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is S3's error code ("NoSuchKey", "SlowDown", ...); "" when the
	// response had no XML body.
	Code string
	// Message is S3's human-readable message.
	Message string
	// RequestID and HostID identify the request for AWS support.
	RequestID, HostID string
	// Resource is the bucket or key the error is about, when S3 said.
	Resource string

	serverDate time.Time // the response's Date, for clock skew
}

// Error formats the code, status, message and request ID.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("s3: ")
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		b.WriteString(http.StatusText(e.Status))
	}
	fmt.Fprintf(&b, " (status %d", e.Status)
	if e.RequestID != "" {
		b.WriteString(", request id ")
		b.WriteString(e.RequestID)
	}
	b.WriteString(")")
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// s3Codes maps S3's error codes to the portable sentinels: the one table of
// the driver. Codes not listed fall back to the HTTP status (statusKinds).
var s3Codes = map[string]error{
	"NoSuchKey":     blob.ErrNotFound,
	"NoSuchBucket":  blob.ErrNotFound,
	"NoSuchUpload":  blob.ErrNotFound,
	"NoSuchVersion": blob.ErrNotFound,
	"NotFound":      blob.ErrNotFound,

	"PreconditionFailed":         blob.ErrPreconditionFailed,
	"ConditionalRequestConflict": blob.ErrPreconditionFailed,
	"BucketAlreadyOwnedByYou":    blob.ErrPreconditionFailed,
	"BucketAlreadyExists":        blob.ErrPreconditionFailed,
	"BucketNotEmpty":             blob.ErrPreconditionFailed,

	"AccessDenied":         blob.ErrPermissionDenied,
	"AllAccessDisabled":    blob.ErrPermissionDenied,
	"AccountProblem":       blob.ErrPermissionDenied,
	"InvalidObjectState":   blob.ErrPermissionDenied,
	"RequestTimeTooSkewed": blob.ErrUnauthenticated,

	"InvalidAccessKeyId":           blob.ErrUnauthenticated,
	"SignatureDoesNotMatch":        blob.ErrUnauthenticated,
	"ExpiredToken":                 blob.ErrUnauthenticated,
	"InvalidToken":                 blob.ErrUnauthenticated,
	"TokenRefreshRequired":         blob.ErrUnauthenticated,
	"AuthorizationHeaderMalformed": blob.ErrUnauthenticated,
	"MissingSecurityHeader":        blob.ErrUnauthenticated,
	"AccessDeniedExpired":          blob.ErrUnauthenticated,

	"SlowDown":                 blob.ErrThrottled,
	"Throttling":               blob.ErrThrottled,
	"ThrottlingException":      blob.ErrThrottled,
	"RequestLimitExceeded":     blob.ErrThrottled,
	"TooManyRequests":          blob.ErrThrottled,
	"TooManyRequestsException": blob.ErrThrottled,

	"InvalidArgument":           blob.ErrInvalidArgument,
	"InvalidRequest":            blob.ErrInvalidArgument,
	"InvalidRange":              blob.ErrInvalidArgument,
	"InvalidBucketName":         blob.ErrInvalidArgument,
	"InvalidObjectName":         blob.ErrInvalidArgument,
	"XMinioInvalidObjectName":   blob.ErrInvalidArgument,
	"XMinioInvalidResourceName": blob.ErrInvalidArgument,
	// Keys a file-backed server cannot store beside another (a file where a
	// directory is, or the reverse): the key cannot be stored, which is no
	// precondition the caller set, whatever status (often 409) it comes with.
	"XMinioParentIsObject":          blob.ErrInvalidArgument,
	"XMinioObjectExistsAsDirectory": blob.ErrInvalidArgument,
	"ObjectParentIsFile":            blob.ErrInvalidArgument,
	"ExistingObjectIsDirectory":     blob.ErrInvalidArgument,
	"KeyTooLongError":               blob.ErrInvalidArgument,
	"EntityTooLarge":                blob.ErrInvalidArgument,
	"EntityTooSmall":                blob.ErrInvalidArgument,
	"InvalidPart":                   blob.ErrInvalidArgument,
	"InvalidPartOrder":              blob.ErrInvalidArgument,
	"MalformedXML":                  blob.ErrInvalidArgument,
	"MetadataTooLarge":              blob.ErrInvalidArgument,
	"InvalidDigest":                 blob.ErrInvalidArgument,
	// A body whose checksum or signed SHA-256 does not match what arrived
	// was changed on the way: corruption in transit, not a mistake of the
	// caller's, so retried (retryableCodes), and ErrInternal if it lasts.
	"BadDigest":                          blob.ErrInternal,
	"XAmzContentSHA256Mismatch":          blob.ErrInternal,
	"InvalidChecksum":                    blob.ErrInvalidArgument,
	"IncompleteBody":                     blob.ErrInvalidArgument,
	"MissingContentLength":               blob.ErrInvalidArgument,
	"IllegalLocationConstraintException": blob.ErrInvalidArgument,

	"NotImplemented":   blob.ErrNotImplemented,
	"MethodNotAllowed": blob.ErrNotImplemented,

	"InternalError":      blob.ErrInternal,
	"ServiceUnavailable": blob.ErrInternal,
	"RequestTimeout":     blob.ErrInternal,
}

// kindOf maps an S3 error to its sentinel: by code first, then by the
// status table every HTTP driver shares.
func kindOf(e *Error) error {
	if k, ok := s3Codes[e.Code]; ok {
		return k
	}
	return errkind.Status(e.Status)
}

// Retryable reports whether sending the same request again may succeed:
// throttling, a timeout, a server-side failure (the statuses every
// provider retries: 408, 429, 500, 502, 503, 504), or a body that arrived
// changed. The client has already retried such errors as Options.Retry
// allows.
func (e *Error) Retryable() bool {
	return retryableCodes[e.Code] || retry.Status(e.Status)
}

// The client's own errors, for what never reached S3. Match them with
// errors.Is; the message says what was wrong.
var (
	// ErrInvalidOptions: New was given Options it cannot use.
	ErrInvalidOptions = errors.New("s3: invalid options")
	// ErrInvalidRequest: Do was given a Request it cannot send.
	ErrInvalidRequest = errors.New("s3: invalid request")
	// ErrCredentials: the credentials could not be retrieved, or the
	// request could not be signed with them.
	ErrCredentials = errors.New("s3: no usable credentials")
)

// errorDetail says what an error of this package means to blob: an S3
// error answer by its code and status, the client's own errors by their
// sentinel, and the errors every driver shares (errkind.Common).
func errorDetail(err error) blob.ErrorDetail {
	var e *Error
	if errors.As(err, &e) {
		return blob.ErrorDetail{Kind: kindOf(e), Code: e.Code, Status: e.Status, RequestID: e.RequestID, Message: e.message()}
	}
	switch {
	case errors.Is(err, ErrInvalidOptions), errors.Is(err, ErrInvalidRequest):
		return blob.ErrorDetail{Kind: blob.ErrInvalidArgument}
	case errors.Is(err, ErrCredentials):
		return blob.ErrorDetail{Kind: blob.ErrUnauthenticated}
	}
	if k := errkind.Common(err); k != nil {
		return blob.ErrorDetail{Kind: k}
	}
	return blob.ErrorDetail{}
}

// message is S3's message, or the status text when it sent none.
func (e *Error) message() string {
	if e.Message != "" {
		return e.Message
	}
	return http.StatusText(e.Status)
}

// kind is the sentinel err stands for, for the driver's own decisions
// (resume a read, treat a lost conditional answer as won).
func kind(err error) error {
	if k := errorDetail(err).Kind; k != nil {
		return k
	}
	return blob.KindOf(err)
}

// ErrorDetail implements blob.Driver. An anonymous client refused with
// AccessDenied sent no credentials at all: that is ErrUnauthenticated, as
// it is on every backend, not a policy's ErrPermissionDenied.
func (d *driver) ErrorDetail(err error) blob.ErrorDetail {
	det := errorDetail(err)
	if d.c.creds == nil && det.Code == "AccessDenied" {
		det.Kind = blob.ErrUnauthenticated
		det.Message += " (the request was anonymous: no credentials were sent)"
	}
	return det
}

// openErr is err as the error OpenBucket and the URL opener return.
func openErr(name string, err error) error {
	if _, ok := err.(*blob.Error); !ok {
		if k := errorDetail(err).Kind; k != nil {
			err = &blob.Error{Kind: k, Err: err}
		}
	}
	return blob.OpenError(Scheme, name, err)
}

type xmlError struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
	Resource  string   `xml:"Resource"`
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// parseError builds an *Error from a response with a failure status,
// reading (and not closing) its body.
func parseError(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("x-amz-request-id"), HostID: resp.Header.Get("x-amz-id-2")}
	e.serverDate, _ = http.ParseTime(resp.Header.Get("Date"))
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	fillError(e, body)
	if e.Code == "" {
		// HEAD responses have no body; MinIO and S3 sometimes name the
		// code in a header.
		e.Code = resp.Header.Get("x-minio-error-code")
		if e.Message == "" {
			e.Message = resp.Header.Get("x-minio-error-desc")
		}
	}
	return e
}

// fillError reads an XML <Error> body into e; it reports whether body was
// one.
func fillError(e *Error, body []byte) bool {
	var x xmlError
	if len(body) == 0 || xml.Unmarshal(body, &x) != nil || x.Code == "" {
		return false
	}
	e.Code, e.Message, e.Resource = x.Code, x.Message, x.Resource
	if x.RequestID != "" {
		e.RequestID = x.RequestID
	}
	if x.HostID != "" {
		e.HostID = x.HostID
	}
	return true
}
