package blob

import (
	"fmt"
	"time"
)

// RetryPolicy is how every provider retries a request that failed in a
// way another attempt may fix. The same type and the same rules serve S3,
// Azure and GCS (each provider's Options has a Retry field of this type);
// the mechanism lives in the shared layer, not in each client. The zero
// value means the defaults: 5 attempts, waits from 100ms up to 5s, a
// budget of 500 retries per client.
//
// What is retried: connection faults (refused, reset, a body cut short or
// stalled), HTTP 408, 429, 500, 502, 503 and 504, and the services'
// throttling codes. Operations that are idempotent (reads, attributes,
// list, delete, copy, every upload part, commits and conditional writes)
// are retried; S3 and GCS single-request writes are too, because a write
// resent whole stores the same bytes. A read cut short resumes from its
// last byte, pinned to the ETag or generation it began with.
//
// The wait before retry n (n >= 1) is drawn uniformly from [0, min(MaxDelay,
// BaseDelay x 2^(n-1))) ("full jitter"). A retry whose wait would outlast
// the context's deadline is not made: the operation ends with the last
// failure's own error (ErrThrottled after repeated 503 or 429, ErrInternal
// after repeated 500), never with a deadline error that hides it.
// ErrCanceled means only that the caller's context was canceled or its
// deadline had passed.
type RetryPolicy struct {
	// MaxAttempts is how many times a request is sent at most: 0 means 5,
	// 1 means no retries.
	MaxAttempts int
	// BaseDelay is the first wait's ceiling; 0 means 100ms.
	BaseDelay time.Duration
	// MaxDelay caps every wait's ceiling; 0 means 5s.
	MaxDelay time.Duration
	// Budget bounds the retries of one client (all its buckets and
	// requests together), so that an outage does not multiply the load on
	// a service that is already failing: each retry takes one token from a
	// bucket of Budget tokens that refills at Budget/10 tokens a second.
	// With the bucket empty, a failed request is not retried and returns
	// its error at once. 0 means 500; a negative Budget means no budget
	// (only MaxAttempts bounds retries).
	Budget int
}

// Defaults of RetryPolicy.
const (
	DefaultMaxAttempts = 5
	DefaultBaseDelay   = 100 * time.Millisecond
	DefaultMaxDelay    = 5 * time.Second
	DefaultRetryBudget = 500
)

// WithDefaults returns p with every zero field set to its default. It does
// not validate p (see Validate).
func (p RetryPolicy) WithDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.Budget == 0 {
		p.Budget = DefaultRetryBudget
	}
	return p
}

// Validate returns an error matching ErrInvalidArgument, naming the field,
// when MaxAttempts, BaseDelay or MaxDelay is negative, or when MaxDelay is
// below BaseDelay once defaults are applied. It returns nil for the zero
// value.
func (p RetryPolicy) Validate() error {
	switch {
	case p.MaxAttempts < 0:
		return Errorf(ErrInvalidArgument, "retry: negative MaxAttempts %d (1 means no retries)", p.MaxAttempts)
	case p.BaseDelay < 0:
		return Errorf(ErrInvalidArgument, "retry: negative BaseDelay %v", p.BaseDelay)
	case p.MaxDelay < 0:
		return Errorf(ErrInvalidArgument, "retry: negative MaxDelay %v", p.MaxDelay)
	}
	d := p.WithDefaults()
	if d.MaxDelay < d.BaseDelay {
		return Errorf(ErrInvalidArgument, "retry: MaxDelay %v is below BaseDelay %v", d.MaxDelay, d.BaseDelay)
	}
	return nil
}

// String describes p with its defaults applied, for logs.
func (p RetryPolicy) String() string {
	d := p.WithDefaults()
	budget := fmt.Sprint(d.Budget)
	if d.Budget < 0 {
		budget = "none"
	}
	return fmt.Sprintf("retry{attempts=%d delay=%v..%v budget=%s}", d.MaxAttempts, d.BaseDelay, d.MaxDelay, budget)
}
