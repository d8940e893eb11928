// Package retry is the mechanism behind blob.RetryPolicy, shared by every
// provider: the full-jitter backoff, the client-wide retry budget, the
// rule that no wait outlasts the context's deadline, and the HTTP statuses
// worth another attempt. Each provider's transport loop (our S3 client, an
// azcore pipeline policy, the GCS library's retryer) asks a Retrier whether
// and when to send again; none has rules of its own.
package retry

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/events"
)

// Retrier applies one blob.RetryPolicy. One Retrier serves one client:
// its budget is shared by every request of that client. It is safe for
// concurrent use.
type Retrier struct {
	p      blob.RetryPolicy
	budget *budget
}

// New returns a Retrier for p with its defaults applied. p's errors are
// Validate's (ErrInvalidArgument).
func New(p blob.RetryPolicy) (*Retrier, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.WithDefaults()
	r := &Retrier{p: p}
	if p.Budget > 0 {
		r.budget = &budget{max: float64(p.Budget), tokens: float64(p.Budget), rate: float64(p.Budget) / 10, last: time.Now()}
	}
	return r, nil
}

// Policy returns the policy with its defaults applied.
func (r *Retrier) Policy() blob.RetryPolicy { return r.p }

// MaxAttempts is how many times a request may be sent.
func (r *Retrier) MaxAttempts() int { return r.p.MaxAttempts }

// Backoff is the full-jitter wait before retry n (n >= 1): uniform in
// [0, min(MaxDelay, BaseDelay x 2^(n-1))).
func (r *Retrier) Backoff(n int) time.Duration {
	ceil := r.p.BaseDelay
	for i := 1; i < n && ceil < r.p.MaxDelay; i++ {
		ceil *= 2
	}
	ceil = min(ceil, r.p.MaxDelay)
	if ceil <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceil)))
}

// Again decides whether attempt number attempt (1-based), which failed in
// a way worth retrying (cause says how), is followed by another, and waits
// before it. It returns nil when the caller should send again; ErrStop
// when it should not (attempts used up, the budget empty, or the wait
// would outlast ctx's deadline), and the caller then returns the attempt's
// own error; ctx's error when ctx ends first. A retry it allows is
// announced on ctx (events.Retry, with the attempt, the wait and cause)
// before the wait.
func (r *Retrier) Again(ctx context.Context, attempt int, cause error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if attempt >= r.p.MaxAttempts {
		return ErrStop
	}
	d := r.Backoff(attempt)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return ErrStop
	}
	if r.budget != nil && !r.budget.take() {
		return ErrStop
	}
	events.Notify(ctx, events.Event{Kind: events.Retry, Attempt: attempt, Delay: d, Err: cause})
	return Sleep(ctx, d)
}

// ErrStop is Again's answer when no retry is to be made.
var ErrStop = stopError{}

type stopError struct{}

func (stopError) Error() string { return "retry: no more attempts" }

// Sleep waits d or until ctx is done, and returns ctx's error then.
func Sleep(ctx context.Context, d time.Duration) error {
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

// Status reports whether an HTTP status is worth another attempt: 408,
// 429, 500, 502, 503 and 504.
func Status(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// budget is a token bucket: a retry takes a token; tokens come back at
// rate per second, up to max.
type budget struct {
	mu     sync.Mutex
	max    float64
	tokens float64
	rate   float64
	last   time.Time
}

func (b *budget) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tokens = min(b.max, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
