package aws

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds the retries of one request. The zero value means the
// defaults: 5 attempts, delays from 100ms up to 5s.
//
// Requests are retried on connection errors, a stalled transfer (see
// Options.StallTimeout), statuses 500, 502, 503, 504 and 429, and the codes
// SlowDown, RequestTimeout, InternalError and the throttling codes. The wait
// before attempt n (n >= 1) is drawn uniformly from [0, min(MaxDelay,
// BaseDelay x 2^(n-1))) ("full jitter"), and never outlasts the context.
type RetryPolicy struct {
	// MaxAttempts is how many times a request is sent at most; 0 means 5,
	// 1 means no retries. Negative values are an error.
	MaxAttempts int
	// BaseDelay is the first backoff ceiling; 0 means 100ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff ceiling; 0 means 5s.
	MaxDelay time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 5
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = 100 * time.Millisecond
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = 5 * time.Second
	}
	return p
}

// backoff is the full-jitter delay before retry number n (1-based).
func (p RetryPolicy) backoff(n int) time.Duration {
	ceil := p.BaseDelay
	for i := 1; i < n && ceil < p.MaxDelay; i++ {
		ceil *= 2
	}
	ceil = min(ceil, p.MaxDelay)
	if ceil <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceil)))
}

// sleep waits d or until ctx is done, and returns ctx's error then.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryableCodes are the S3 error codes worth another attempt.
var retryableCodes = map[string]bool{
	"SlowDown": true, "RequestTimeout": true, "InternalError": true, "ServiceUnavailable": true,
	"Throttling": true, "ThrottlingException": true, "RequestLimitExceeded": true,
	"TooManyRequests": true, "TooManyRequestsException": true,
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
