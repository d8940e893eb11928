package aws

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/anyblob/anyblob/blob"
)

// Error is an error response from S3: the XML <Error> document, or for a
// response without one (HEAD, for instance) the status alone. Bucket errors
// carry it as their cause, so errors.As(err, &s3err) reaches it while
// errors.Is(err, blob.ErrNotFound) answers from the mapped sentinel.
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

	"InvalidArgument":                    blob.ErrInvalidArgument,
	"InvalidRequest":                     blob.ErrInvalidArgument,
	"InvalidRange":                       blob.ErrInvalidArgument,
	"InvalidBucketName":                  blob.ErrInvalidArgument,
	"InvalidObjectName":                  blob.ErrInvalidArgument,
	"XMinioInvalidObjectName":            blob.ErrInvalidArgument,
	"KeyTooLongError":                    blob.ErrInvalidArgument,
	"EntityTooLarge":                     blob.ErrInvalidArgument,
	"EntityTooSmall":                     blob.ErrInvalidArgument,
	"InvalidPart":                        blob.ErrInvalidArgument,
	"InvalidPartOrder":                   blob.ErrInvalidArgument,
	"MalformedXML":                       blob.ErrInvalidArgument,
	"MetadataTooLarge":                   blob.ErrInvalidArgument,
	"InvalidDigest":                      blob.ErrInvalidArgument,
	"BadDigest":                          blob.ErrInvalidArgument,
	"XAmzContentSHA256Mismatch":          blob.ErrInvalidArgument,
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

// statusKind is the sentinel for a status without a known code.
func statusKind(status int) error {
	switch status {
	case http.StatusNotFound:
		return blob.ErrNotFound
	case http.StatusPreconditionFailed, http.StatusConflict:
		return blob.ErrPreconditionFailed
	case http.StatusForbidden:
		return blob.ErrPermissionDenied
	case http.StatusUnauthorized:
		return blob.ErrUnauthenticated
	case http.StatusBadRequest, http.StatusRequestedRangeNotSatisfiable, http.StatusLengthRequired, http.StatusRequestEntityTooLarge:
		return blob.ErrInvalidArgument
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return blob.ErrThrottled
	case http.StatusNotImplemented, http.StatusMethodNotAllowed:
		return blob.ErrNotImplemented
	}
	return blob.ErrInternal
}

// kindOf maps an S3 error to its sentinel: by code first, then by status.
func kindOf(e *Error) error {
	if k, ok := s3Codes[e.Code]; ok {
		return k
	}
	return statusKind(e.Status)
}

// toBlobError wraps an *Error in the *blob.Error the portable API returns,
// keeping S3's code, status and request ID.
func toBlobError(e *Error) *blob.Error {
	return &blob.Error{Kind: kindOf(e), Code: e.Code, Status: e.Status, RequestID: e.RequestID, Err: e}
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
