package azure

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/errkind"
)

// codes maps Azure error codes to sentinels: the one place the driver
// classifies the service's errors. Codes not listed fall back to the HTTP
// status table every HTTP driver shares (internal/errkind).
var codes = map[string]error{
	"BlobNotFound":                      blob.ErrNotFound,
	"ContainerNotFound":                 blob.ErrNotFound,
	"ResourceNotFound":                  blob.ErrNotFound,
	"CannotVerifyCopySource":            blob.ErrNotFound,
	"ConditionNotMet":                   blob.ErrPreconditionFailed,
	"BlobAlreadyExists":                 blob.ErrPreconditionFailed,
	"ContainerAlreadyExists":            blob.ErrPreconditionFailed,
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
	// A blob written with a customer-provided key read without it (409),
	// or a key given for a blob written without one.
	"BlobUsesCustomerSpecifiedEncryption":       blob.ErrPermissionDenied,
	"BlobDoesNotUseCustomerSpecifiedEncryption": blob.ErrPermissionDenied,
	// What the service (or Azurite in strict mode, with status 500) does
	// not implement: never retried.
	"FeatureNotSupported": blob.ErrNotImplemented,
	// A request body changed on the way (see checksumMismatch): not the
	// caller's mistake; retried, and ErrInternal if it lasts.
	"Md5Mismatch":   blob.ErrInternal,
	"Crc64Mismatch": blob.ErrInternal,
}

// bloberrorCode returns the Azure error code of err, or "".
func bloberrorCode(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

// errorDetail says what an error of azblob or azidentity means to blob:
// a service answer by its code (codes), else by the status table every
// HTTP driver shares; a credential the identity provider refused, or no
// credential from the chain, is ErrUnauthenticated. The message is the
// service's own (the reason phrase of its status line), never the
// many-line dump of azcore's Error, which also repeats the request URL.
func errorDetail(err error) blob.ErrorDetail {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		d := blob.ErrorDetail{Kind: errkind.Status(re.StatusCode), Code: re.ErrorCode, Status: re.StatusCode}
		if k, ok := codes[re.ErrorCode]; ok {
			d.Kind = k
		}
		if re.RawResponse != nil {
			d.RequestID = re.RawResponse.Header.Get("x-ms-request-id")
			d.Message = reason(re.RawResponse.Status, re.StatusCode)
		}
		if d.Message == "" {
			d.Message = http.StatusText(re.StatusCode)
		}
		if a, ok := advice[re.ErrorCode]; ok {
			d.Message += " (" + a + ")"
		}
		if strings.HasPrefix(d.Message, authFailedMessage) {
			// A signature or key the service could not verify, whatever
			// code it came with (Azurite says AuthorizationFailure).
			d.Kind = blob.ErrUnauthenticated
		}
		return d
	}
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) {
		return blob.ErrorDetail{Kind: blob.ErrUnauthenticated}
	}
	if k := errkind.Common(err); k != nil {
		return blob.ErrorDetail{Kind: k}
	}
	return blob.ErrorDetail{}
}

// advice says what to do about an answer whose message (Azure's reason
// phrase, which a proxy may have replaced by the standard one) does not.
var advice = map[string]string{
	"BlobUsesCustomerSpecifiedEncryption": "the blob is encrypted with a customer-provided key: give it in " +
		"ReaderOptions.Encryption or CopyOptions.SourceEncryption; Attributes takes no key, a Reader's Attrs has the size, type, time and ETag",
	"BlobDoesNotUseCustomerSpecifiedEncryption": "the blob is not encrypted with a customer-provided key: read it without one",
}

// authFailedMessage starts the service's message for a request whose
// signature or key it could not verify.
const authFailedMessage = "Server failed to authenticate the request"

// reason is the reason phrase of an HTTP status line ("404 The specified
// blob does not exist." gives "The specified blob does not exist.").
func reason(statusLine string, code int) string {
	return strings.TrimSpace(strings.TrimPrefix(statusLine, strconv.Itoa(code)))
}

// ErrorDetail implements blob.Driver.
func (d *driver) ErrorDetail(err error) blob.ErrorDetail { return errorDetail(err) }
