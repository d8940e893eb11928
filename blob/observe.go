package blob

import (
	"context"
	"time"

	"github.com/anyblob/anyblob/internal/events"
)

// Observer sees every operation of a Bucket: the one seam that tracing,
// metrics and logging hang from. Observe adds one to a bucket.
//
// Start is called when an operation begins, after the checks of the
// bucket, the context and the key (an operation that fails those is not
// observed; one that fails later, on its options or at the service, is),
// with the context the caller passed; the context it returns is the
// one the driver gets (a tracer puts its span there). The returned func,
// unless nil (the observer does not care how this one ends), is called
// exactly once when the operation ends: for a read when the Reader
// is closed (or opening it failed), for a write when the Writer's Close or
// Abort returns (or opening it failed), for the others when they return.
// Start and the end func must be safe for concurrent use; they must not
// block, since they run on the caller's goroutine.
type Observer interface {
	Start(ctx context.Context, op Operation) (context.Context, func(Outcome))
}

// Operation is one call of a Bucket, as an Observer sees it begin.
type Operation struct {
	// Op is one of OpRead, OpWrite, OpAttributes, OpList, OpDelete, OpCopy,
	// OpSign.
	Op string
	// Provider is the scheme ("s3", "azblob", "gs", "file", "mem") and
	// Bucket the bucket's name.
	Provider, Bucket string
	// Key is the key as the caller gave it (for OpList the prefix, for
	// OpCopy the destination, for a DeleteKeys of many keys ""). Keys can be
	// sensitive: an Observer that exports them should let its user turn that
	// off.
	Key string
}

// Outcome is how an operation ended.
type Outcome struct {
	// Bytes is how many bytes were read or written (0 for the other
	// operations).
	Bytes int64
	// Duration is the time from Start to the end.
	Duration time.Duration
	// Err is nil on success, else the *Error the caller got; KindOf(Err) is
	// its sentinel. An aborted write ends with ErrCanceled unless cleaning up
	// failed.
	Err error
}

// ObserverFunc adapts a function to Observer: f is called once per
// operation, when it ends, and the context passes through unchanged.
type ObserverFunc func(Operation, Outcome)

// Start implements Observer.
func (f ObserverFunc) Start(ctx context.Context, op Operation) (context.Context, func(Outcome)) {
	return ctx, func(o Outcome) { f(op, o) }
}

// Observe returns a view of b whose operations pass through o, after any
// observers b already has (so Observe(Observe(b, x), y) starts x, then y).
// The view shares b's driver: closing either closes both. A nil o returns b.
func Observe(b Bucket, o Observer) Bucket {
	if o == nil {
		return b
	}
	s := b.shared()
	v := s.view(s.d)
	v.obs = append(append([]Observer(nil), s.obs...), o)
	return v
}

// noEnd is the end of an operation no one observes: no closure, no cost.
func noEnd(int64, error) {}

// observe starts op on every observer and returns the context for the
// driver and the func that ends it. Observers whose Start returned no end
// sit this operation out: they hear none of its events.
func (b *bucket) observe(ctx context.Context, op, key string) (context.Context, func(int64, error)) {
	if len(b.obs) == 0 {
		return ctx, noEnd
	}
	info := Operation{Op: op, Provider: b.provider, Bucket: b.name, Key: key}
	var one func(Outcome)    // the only end, the common case
	var many []func(Outcome) // or every end, in Start order
	var hear []EventObserver
	for _, o := range b.obs {
		var end func(Outcome)
		ctx, end = o.Start(ctx, info)
		if end == nil {
			continue
		}
		if eo, ok := o.(EventObserver); ok {
			hear = append(hear, eo)
		}
		switch {
		case one == nil && many == nil:
			one = end
		case many == nil:
			many, one = []func(Outcome){one, end}, nil
		default:
			many = append(many, end)
		}
	}
	if len(hear) > 0 {
		ctx = events.With(ctx, b.eventSink(hear, op, key))
	}
	if one == nil && many == nil {
		return ctx, noEnd
	}
	start := time.Now()
	return ctx, func(n int64, err error) {
		out := Outcome{Bytes: n, Duration: time.Since(start), Err: err}
		if one != nil {
			one(out)
			return
		}
		for i := len(many) - 1; i >= 0; i-- {
			many[i](out)
		}
	}
}
