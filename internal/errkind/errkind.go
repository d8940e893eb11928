// Package errkind is the one table of what an HTTP status and the errors
// every cloud driver meets mean, so that the same mistake gets the same
// sentinel on every backend. Each driver's ErrorDetail looks up its service's
// own error codes first, then falls back to Status and Common here.
package errkind

import (
	"errors"
	"net/http"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/blob"
)

// statuses maps an HTTP status to its sentinel. The choices where services
// differ:
//   - 401: the credentials are missing or rejected (ErrUnauthenticated); 403
//     is a policy that refuses them (ErrPermissionDenied). A service that
//     answers 403 for a bad signature or key says so with a code, which the
//     driver's code table maps to ErrUnauthenticated.
//   - 409 Conflict: ErrPreconditionFailed, the store's state is not what the
//     request assumed (Azure and GCS answer a lost IfNotExist with it). A
//     409 that means "this key cannot be stored here" (S3-compatible
//     servers' file/directory clashes) is a code the driver's table maps to
//     ErrInvalidArgument.
//   - 405 Method Not Allowed and 501 Not Implemented: ErrNotImplemented,
//     this backend cannot do that.
//   - 411 Length Required, 413 Payload Too Large, 414 URI Too Long, 416 Range
//     Not Satisfiable: ErrInvalidArgument, the request itself is wrong.
//   - 429 and 503: ErrThrottled (services use 503 for "slow down").
//   - 408 Request Timeout, 500, 502, 504 and everything else: ErrInternal.
var statuses = map[int]error{
	http.StatusBadRequest:                   blob.ErrInvalidArgument,
	http.StatusUnauthorized:                 blob.ErrUnauthenticated,
	http.StatusForbidden:                    blob.ErrPermissionDenied,
	http.StatusNotFound:                     blob.ErrNotFound,
	http.StatusMethodNotAllowed:             blob.ErrNotImplemented,
	http.StatusConflict:                     blob.ErrPreconditionFailed,
	http.StatusLengthRequired:               blob.ErrInvalidArgument,
	http.StatusPreconditionFailed:           blob.ErrPreconditionFailed,
	http.StatusRequestEntityTooLarge:        blob.ErrInvalidArgument,
	http.StatusRequestURITooLong:            blob.ErrInvalidArgument,
	http.StatusRequestedRangeNotSatisfiable: blob.ErrInvalidArgument,
	http.StatusTooManyRequests:              blob.ErrThrottled,
	http.StatusNotImplemented:               blob.ErrNotImplemented,
	http.StatusServiceUnavailable:           blob.ErrThrottled,
}

// Status returns the sentinel for an HTTP status: see statuses. A status
// this table does not name is ErrInternal.
func Status(status int) error {
	if k, ok := statuses[status]; ok {
		return k
	}
	return blob.ErrInternal
}

// Common classifies the errors that are not a service's answer but mean the
// same on every cloud: no credentials from a chain (*auth.NoCredentialsError)
// is ErrUnauthenticated. It returns nil for anything else. (It imports no
// cloud SDK, so an AWS-only program links none: the Azure driver maps
// azidentity's errors itself.)
func Common(err error) error {
	var nce *auth.NoCredentialsError
	if errors.As(err, &nce) {
		return blob.ErrUnauthenticated
	}
	return nil
}
