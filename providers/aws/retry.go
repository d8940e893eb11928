package aws

import (
	"context"
	"errors"

	"github.com/anyblob/anyblob/blob"
)

// RetryPolicy is blob.RetryPolicy: how the client retries, the same rules
// as every other provider. S3 adds to the retried statuses the codes
// SlowDown, RequestTimeout, InternalError and the throttling codes, even
// on a 200 answer (a failed CompleteMultipartUpload or CopyObject), and a
// stalled transfer (see Options.StallTimeout).
type RetryPolicy = blob.RetryPolicy

// retryableCodes are the S3 error codes worth another attempt.
var retryableCodes = map[string]bool{
	"SlowDown": true, "RequestTimeout": true, "InternalError": true, "ServiceUnavailable": true,
	"Throttling": true, "ThrottlingException": true, "RequestLimitExceeded": true,
	"TooManyRequests": true, "TooManyRequestsException": true,
	// A body changed on the way: the same bytes sent again arrive whole.
	"BadDigest": true, "XAmzContentSHA256Mismatch": true,
}

// retryable reports whether a failed attempt is worth repeating: err is the
// transport's error (nil when a response came), s3err the error response.
func retryable(parent context.Context, err error, s3err *Error) bool {
	if parent.Err() != nil {
		return false
	}
	if s3err != nil {
		return s3err.Retryable()
	}
	if err == nil {
		return false
	}
	// Errors of our own making (a bad URL, a failed signature) do not heal.
	var fatal *fatalError
	return !errors.As(err, &fatal)
}

// fatalError marks an error that retrying cannot fix.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }
