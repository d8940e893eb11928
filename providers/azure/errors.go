package azure

import (
	"errors"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/anyblob/anyblob/blob"
)

// codes maps Azure error codes to sentinels: the one place the driver
// classifies the service's errors. Codes not listed fall back to the HTTP
// status (statuses).
var codes = map[string]error{
	"BlobNotFound":                      blob.ErrNotFound,
	"ContainerNotFound":                 blob.ErrNotFound,
	"ResourceNotFound":                  blob.ErrNotFound,
	"CannotVerifyCopySource":            blob.ErrNotFound,
	"ConditionNotMet":                   blob.ErrPreconditionFailed,
	"BlobAlreadyExists":                 blob.ErrPreconditionFailed,
	"TargetConditionNotMet":             blob.ErrPreconditionFailed,
	"SourceConditionNotMet":             blob.ErrPreconditionFailed,
	"AuthorizationFailure":              blob.ErrPermissionDenied,
	"AuthorizationPermissionMismatch":   blob.ErrPermissionDenied,
	"AuthorizationResourceTypeMismatch": blob.ErrPermissionDenied,
	"InsufficientAccountPermissions":    blob.ErrPermissionDenied,
	"AuthenticationFailed":              blob.ErrUnauthenticated,
	"NoAuthenticationInformation":       blob.ErrUnauthenticated,
	"InvalidAuthenticationInfo":         blob.ErrUnauthenticated,
	"ServerBusy":                        blob.ErrThrottled,
	"OperationTimedOut":                 blob.ErrThrottled,
	"InvalidBlockList":                  blob.ErrInvalidArgument,
	"InvalidMetadata":                   blob.ErrInvalidArgument,
	"InvalidResourceName":               blob.ErrInvalidArgument,
	"InvalidRange":                      blob.ErrInvalidArgument,
	"RequestBodyTooLarge":               blob.ErrInvalidArgument,
	"InternalError":                     blob.ErrInternal,
}

var statuses = map[int]error{
	http.StatusBadRequest:         blob.ErrInvalidArgument,
	http.StatusUnauthorized:       blob.ErrUnauthenticated,
	http.StatusForbidden:          blob.ErrPermissionDenied,
	http.StatusNotFound:           blob.ErrNotFound,
	http.StatusConflict:           blob.ErrPreconditionFailed,
	http.StatusPreconditionFailed: blob.ErrPreconditionFailed,
	http.StatusTooManyRequests:    blob.ErrThrottled,
	http.StatusServiceUnavailable: blob.ErrThrottled,
}

// bloberrorCode returns the Azure error code of err, or "".
func bloberrorCode(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

// mapError turns an azblob error into a *blob.Error with the right kind,
// keeping Azure's code, status and request id.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var be *blob.Error
	if errors.As(err, &be) {
		return err
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return &blob.Error{Kind: blob.ErrInternal, Err: err}
	}
	e := &blob.Error{Kind: blob.ErrInternal, Code: re.ErrorCode, Status: re.StatusCode, Err: err}
	if re.RawResponse != nil {
		e.RequestID = re.RawResponse.Header.Get("x-ms-request-id")
	}
	if k, ok := codes[re.ErrorCode]; ok {
		e.Kind = k
	} else if k, ok := statuses[re.StatusCode]; ok {
		e.Kind = k
	}
	return e
}
