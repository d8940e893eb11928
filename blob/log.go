package blob

import (
	"context"
	"errors"
	"log/slog"
	"strings"
)

// LogOptions configures LogTo. nil means the zero value.
type LogOptions struct {
	// Keys adds each operation's key to its log lines. Keys can be
	// sensitive (names of people, tenants, documents): off by default.
	Keys bool
}

// LogTo returns an EventObserver that logs a bucket's operations and what
// happens on their way through l (log/slog), for Observe:
//
//	b = blob.Observe(b, blob.LogTo(logger, nil))
//
// Each operation's end is logged at debug ("blob op": op, provider,
// bucket, bytes, duration, and for a failure its sentinel as error.type
// and its message); each retry at debug, or at warn when the cause is
// throttling ("blob retry": attempt, delay, cause); a re-sign after clock
// skew at warn; a credential refresh and a credential chain's choice of
// source at debug. The AWS and Azure chains pick their source on the
// first operation, so their choice is logged there; the GCP chain picks
// it when the bucket is opened, so to hear it (or any chain's choice
// earlier), pass OpenBucket a context from WithEvents(ctx, LogTo(l,
// nil).Event).
//
// Nothing logged carries a secret: errors are *Error, whose messages are
// redacted (RedactURLSecrets) and never quote credentials; events name
// sources, not keys or tokens. A nil l returns nil, which Observe ignores.
func LogTo(l *slog.Logger, opts *LogOptions) EventObserver {
	if l == nil {
		return nil
	}
	lo := &logObserver{l: l}
	if opts != nil {
		lo.keys = opts.Keys
	}
	return lo
}

type logObserver struct {
	l    *slog.Logger
	keys bool
}

type logOpKey struct{}

// Start implements Observer: the operation rides on the context, for the
// events' lines.
func (lo *logObserver) Start(ctx context.Context, op Operation) (context.Context, func(Outcome)) {
	ctx = context.WithValue(ctx, logOpKey{}, op)
	return ctx, func(o Outcome) {
		if !lo.l.Enabled(ctx, slog.LevelDebug) {
			return
		}
		attrs := lo.opAttrs(op)
		attrs = append(attrs, slog.Int64("bytes", o.Bytes), slog.Duration("duration", o.Duration))
		if o.Err != nil {
			attrs = append(attrs, slog.String("error.type", KindName(o.Err)), slog.String("error", ErrorMessage(o.Err, lo.keys)))
		}
		lo.l.LogAttrs(ctx, slog.LevelDebug, "blob op", attrs...)
	}
}

func (lo *logObserver) opAttrs(op Operation) []slog.Attr {
	attrs := []slog.Attr{slog.String("op", op.Op), slog.String("provider", op.Provider), slog.String("bucket", op.Bucket)}
	if lo.keys && op.Key != "" {
		attrs = append(attrs, slog.String("key", op.Key))
	}
	return attrs
}

// Event implements EventObserver.
func (lo *logObserver) Event(ctx context.Context, e Event) {
	level, msg := slog.LevelDebug, "blob "+e.Kind
	switch e.Kind {
	case EventRetry:
		if KindOf(e.Err) == ErrThrottled {
			level = slog.LevelWarn
		}
	case EventClockSkew:
		level = slog.LevelWarn
	}
	if !lo.l.Enabled(ctx, level) {
		return
	}
	var attrs []slog.Attr
	if op, ok := ctx.Value(logOpKey{}).(Operation); ok {
		attrs = lo.opAttrs(op)
	}
	if e.Kind == EventRetry {
		attrs = append(attrs, slog.Int("attempt", e.Attempt), slog.Duration("delay", e.Delay))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error.type", KindName(e.Err)), slog.String("error", ErrorMessage(e.Err, lo.keys)))
	}
	if e.Detail != "" {
		attrs = append(attrs, slog.String("detail", RedactURLSecrets(e.Detail)))
	}
	lo.l.LogAttrs(ctx, level, msg, attrs...)
}

// ErrorMessage is err's message for logs and traces: without the key
// unless withKey (keys can be sensitive), with URL secrets redacted
// (RedactURLSecrets); "" for a nil err.
func ErrorMessage(err error, withKey bool) string {
	if err == nil {
		return ""
	}
	var e *Error
	if !withKey && errors.As(err, &e) && e.Key != "" {
		c := *e
		c.Key = ""
		if err == error(e) {
			return RedactURLSecrets(c.Error())
		}
		return RedactURLSecrets(strings.Replace(err.Error(), e.Error(), c.Error(), 1))
	}
	return RedactURLSecrets(err.Error())
}

// KindName is the name of err's sentinel (KindOf) in snake case, for
// labels of logs and metrics: "not_found", "precondition_failed",
// "throttled", ...; "" for a nil err.
func KindName(err error) string {
	k := KindOf(err)
	if k == nil {
		return ""
	}
	return strings.ReplaceAll(strings.TrimPrefix(k.Error(), "blob: "), " ", "_")
}
