package gcp

import (
	"context"
	"errors"
	"io"
	"net/http"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"

	"github.com/anyblob/anyblob/blob"
)

// kinds maps HTTP statuses to sentinels; it is the one place the driver
// classifies the service's errors.
var kinds = map[int]error{
	http.StatusBadRequest:                   blob.ErrInvalidArgument,
	http.StatusUnauthorized:                 blob.ErrUnauthenticated,
	http.StatusForbidden:                    blob.ErrPermissionDenied,
	http.StatusNotFound:                     blob.ErrNotFound,
	http.StatusConflict:                     blob.ErrPreconditionFailed,
	http.StatusPreconditionFailed:           blob.ErrPreconditionFailed,
	http.StatusNotImplemented:               blob.ErrNotImplemented,
	http.StatusTooManyRequests:              blob.ErrThrottled,
	http.StatusServiceUnavailable:           blob.ErrThrottled,
	http.StatusRequestedRangeNotSatisfiable: blob.ErrInvalidArgument,
}

// status returns the HTTP status of a service error, or 0.
func status(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// mapError turns a storage error into a *blob.Error with the right kind,
// keeping the service's status, reason and request id.
func mapError(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	switch {
	case errors.Is(err, storage.ErrObjectNotExist), errors.Is(err, storage.ErrBucketNotExist):
		return &blob.Error{Kind: blob.ErrNotFound, Status: http.StatusNotFound, Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &blob.Error{Kind: blob.ErrCanceled, Err: err}
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		e := &blob.Error{Kind: blob.ErrInternal, Status: ge.Code, Err: err}
		if k, ok := kinds[ge.Code]; ok {
			e.Kind = k
		}
		if len(ge.Errors) > 0 {
			e.Code = ge.Errors[0].Reason
		}
		if id := ge.Header.Get("X-Guploader-Uploadid"); id != "" {
			e.RequestID = id
		}
		return e
	}
	var be *blob.Error
	if errors.As(err, &be) {
		return err
	}
	return &blob.Error{Kind: blob.ErrInternal, Err: err}
}
