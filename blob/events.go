package blob

import (
	"context"
	"time"

	"github.com/anyblob/anyblob/internal/events"
)

// Event is something a driver or a credential source did on the way to an
// operation's outcome: a retry, a re-sign after the server refused the
// request's clock, a credential refresh, a credential chain picking its
// source. Observers that implement EventObserver hear the events of the
// operations they observe; WithEvents hears those of anything run with a
// context. An Event never holds a secret.
type Event struct {
	// Kind is one of EventRetry, EventClockSkew, EventCredentialsRefresh,
	// EventCredentialsSource.
	Kind string
	// Attempt is, for a retry, the attempt that failed (1-based).
	Attempt int
	// Delay is, for a retry, the wait before the next attempt.
	Delay time.Duration
	// Err is, for a retry, why: a *Error whose sentinel (KindOf) says what
	// kind of failure it was (ErrThrottled for throttling). nil for the
	// other kinds.
	Err error
	// Detail says more, in words: the credential source, the clock
	// difference.
	Detail string
}

// The kinds of Event.
const (
	// EventRetry: a request failed in a way worth retrying (see
	// RetryPolicy) and is sent again after Delay.
	EventRetry = events.Retry
	// EventClockSkew: the server refused the request's time (S3's
	// RequestTimeTooSkewed); it is signed again at once with the server's
	// clock.
	EventClockSkew = events.ClockSkew
	// EventCredentialsRefresh: credentials were fetched anew (expired,
	// about to, or refused by the server as stale).
	EventCredentialsRefresh = events.CredentialsRefresh
	// EventCredentialsSource: a credential chain picked its source; Detail
	// names it and says why the sources before it were skipped.
	EventCredentialsSource = events.CredentialsSource
)

// EventObserver is an Observer that also hears the events of the
// operations it observes. Event is called on the goroutine where the
// event happened, with the context there (derived from the one the
// observer's Start returned, so it carries what Start put in it), between
// Start and the end of the operation; it must be safe for concurrent use
// and must not block.
type EventObserver interface {
	Observer
	Event(ctx context.Context, e Event)
}

// WithEvents returns ctx on which f hears the events of whatever runs with
// it, besides any listeners ctx already has: pass it to OpenBucket to hear
// which credential source a chain picks, or to any operation. Err of a
// retry is the driver's own error there, not a *Error (use an
// EventObserver for classified errors). A nil f returns ctx.
func WithEvents(ctx context.Context, f func(context.Context, Event)) context.Context {
	if f == nil {
		return ctx
	}
	return events.With(ctx, func(c context.Context, e events.Event) { f(c, Event(e)) })
}

// eventSink returns the sink that hands an operation's events to the
// observers eos, with each retry's cause classified and wrapped as every
// error of b is.
func (b *bucket) eventSink(eos []EventObserver, op, key string) events.Sink {
	return func(ctx context.Context, e events.Event) {
		ev := Event(e)
		if ev.Err != nil {
			ev.Err = b.err(ctx, ev.Err, op, key)
		}
		for _, o := range eos {
			o.Event(ctx, ev)
		}
	}
}
