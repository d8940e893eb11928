// Package events carries what a driver or a credential source does on the
// way to an operation's outcome (a retry, a re-sign after clock skew, a
// credential refresh) to whoever listens on the operation's context:
// blob's observers (blob.EventObserver) and blob.WithEvents. It is the one
// path for such news, used by internal/retry, the drivers and auth, so
// that none of them imports blob's observer machinery.
package events

import (
	"context"
	"time"
)

// The kinds of Event.
const (
	// Retry: a request failed in a way worth retrying and is sent again
	// after Delay; Attempt is the attempt that failed (1-based), Err why.
	Retry = "retry"
	// ClockSkew: the server refused the request's time; it is signed
	// again at once with the server's clock. Detail says by how much.
	ClockSkew = "clock_skew"
	// CredentialsRefresh: credentials were fetched anew (expired, about to
	// expire, or refused by the server as stale). Detail names the source.
	CredentialsRefresh = "credentials_refresh"
	// CredentialsSource: a credential chain picked its source. Detail
	// names it and says why the ones before it were skipped.
	CredentialsSource = "credentials_source"
)

// Event is one piece of news. It never holds a secret: Detail names
// sources and durations, Err is an error whose message carries none.
type Event struct {
	Kind    string
	Attempt int
	Delay   time.Duration
	Err     error
	Detail  string
}

// Sink receives events; ctx is the context at the place the event
// happened (it carries the operation's span, say).
type Sink func(ctx context.Context, e Event)

type sinkKey struct{}

// With returns ctx with sink added to the sinks already on it.
func With(ctx context.Context, sink Sink) context.Context {
	if sink == nil {
		return ctx
	}
	prev, _ := ctx.Value(sinkKey{}).(Sink)
	if prev != nil {
		both := func(c context.Context, e Event) { prev(c, e); sink(c, e) }
		return context.WithValue(ctx, sinkKey{}, Sink(both))
	}
	return context.WithValue(ctx, sinkKey{}, sink)
}

// Listening reports whether any sink is on ctx, for news that costs
// something to put together.
func Listening(ctx context.Context) bool {
	_, ok := ctx.Value(sinkKey{}).(Sink)
	return ok
}

// Notify hands e to the sinks on ctx; with none it costs one lookup.
func Notify(ctx context.Context, e Event) {
	if s, ok := ctx.Value(sinkKey{}).(Sink); ok {
		s(ctx, e)
	}
}
