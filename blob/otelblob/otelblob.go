// Package otelblob records a bucket's operations with OpenTelemetry: a span
// per operation and metrics of every call, through blob's Observer seam.
// It depends on the OpenTelemetry API only; the application picks the SDK
// and exporters and sets them (otel.SetTracerProvider,
// otel.SetMeterProvider) or passes them in Options.
//
//	b, err = otelblob.Observe(b, nil)
//
// # Spans
//
// One client span per operation, named "anyblob.read", "anyblob.write",
// "anyblob.attributes", "anyblob.list", "anyblob.delete", "anyblob.copy"
// or "anyblob.sign", with the attributes anyblob.operation,
// anyblob.provider ("s3", "azblob", "gs", "file", "mem"), anyblob.bucket,
// cloud.provider ("aws", "azure", "gcp" where it applies), anyblob.key
// (only with Options.Keys: keys can be sensitive), on S3 also
// aws.s3.bucket and (with Options.Keys) aws.s3.key, and, at the end,
// anyblob.bytes (read or written). A failed operation sets the span's
// status to Error with the error's message (redacted: no signature or
// token of a URL, no credential) and error.type to the sentinel's name
// (blob.KindName: "not_found", "throttled", ...). What happens on the way
// is recorded as span events: "retry" (anyblob.retry.attempt, the
// attempt that failed; anyblob.retry.delay, the wait in seconds;
// error.type and exception.message, the cause), "clock_skew",
// "credentials_refresh" and "credentials_source" (anyblob.detail).
// A read's span ends when its Reader is closed, a write's when its Writer
// is closed or aborted.
//
// # Metrics
//
// All with the attributes anyblob.operation and anyblob.provider, and
// error.type on failures:
//   - anyblob.client.operation.duration (histogram, s): each operation's
//     time, from its start to its end as above;
//   - anyblob.client.io (counter, By): bytes read (network.io.direction
//     "receive") and written ("transmit");
//   - anyblob.client.errors (counter, {error}): failed operations;
//   - anyblob.client.retries (counter, {retry}): requests sent again,
//     error.type being the cause's.
//
// OpenTelemetry has no semantic conventions for object storage clients
// beyond AWS S3's aws.s3.bucket and aws.s3.key; the other names follow its
// naming rules, and error.type, cloud.provider and network.io.direction
// are its own attributes.
//
// # Cost
//
// With no SDK set (the API's no-op providers) the observer does no work
// beyond starting the API's non-recording span and asking whether it and
// the instruments record: no attributes are built and no instrument is
// called. The API's span costs about 200 ns and three small allocations
// per operation (BenchmarkObserver, on an in-memory bucket), which is lost
// in the time of any request to a server (bench: BenchmarkS3 and
// BenchmarkS3Small, "anyblob-otel-noop"). A bucket without the observer
// pays nothing at all.
package otelblob

import (
	"context"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/anyblob/anyblob/blob"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/anyblob/anyblob/blob/otelblob"

// Options configures New. nil means the zero value.
type Options struct {
	// TracerProvider makes the tracer; nil means otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// MeterProvider makes the meter; nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// Keys records each operation's key on its span (anyblob.key). Keys
	// can be sensitive: off by default. Metrics never carry keys.
	Keys bool
}

// New returns an observer recording spans and metrics as the package
// documentation says. Its error is the meter's, creating an instrument.
func New(opts *Options) (blob.EventObserver, error) {
	if opts == nil {
		opts = &Options{}
	}
	tp, mp := opts.TracerProvider, opts.MeterProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	o := &observer{tracer: tp.Tracer(ScopeName), keys: opts.Keys}
	m := mp.Meter(ScopeName)
	var err error
	if o.duration, err = m.Float64Histogram("anyblob.client.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("Time of each bucket operation, from its start to its end."),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)); err != nil {
		return nil, err
	}
	if o.io, err = m.Int64Counter("anyblob.client.io", metric.WithUnit("By"),
		metric.WithDescription("Bytes read and written through buckets.")); err != nil {
		return nil, err
	}
	if o.errors, err = m.Int64Counter("anyblob.client.errors", metric.WithUnit("{error}"),
		metric.WithDescription("Bucket operations that failed, by the kind of failure.")); err != nil {
		return nil, err
	}
	if o.retries, err = m.Int64Counter("anyblob.client.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Requests sent again after a failure worth retrying, by its kind.")); err != nil {
		return nil, err
	}
	return o, nil
}

// Observe returns blob.Observe(b, New(opts)): b with its operations
// recorded. Its error is New's.
func Observe(b blob.Bucket, opts *Options) (blob.Bucket, error) {
	o, err := New(opts)
	if err != nil {
		return nil, err
	}
	return blob.Observe(b, o), nil
}

type observer struct {
	tracer   trace.Tracer
	keys     bool
	duration metric.Float64Histogram
	io       metric.Int64Counter
	errors   metric.Int64Counter
	retries  metric.Int64Counter
}

// spanNames are the span names by operation, made once.
var spanNames = map[string]string{}

func init() {
	for _, op := range []string{blob.OpRead, blob.OpWrite, blob.OpAttributes, blob.OpList, blob.OpDelete, blob.OpCopy, blob.OpSign} {
		spanNames[op] = "anyblob." + op
	}
}

func spanName(op string) string {
	if n, ok := spanNames[op]; ok {
		return n
	}
	return "anyblob." + strings.ReplaceAll(op, " ", "_")
}

// startOptions are the spans' options (their kind), made once: a slice
// built per call would be an allocation per operation.
var startOptions = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}

// cloudProviders are cloud.provider's values by scheme.
var cloudProviders = map[string]string{"s3": "aws", "azblob": "azure", "gs": "gcp"}

type opKey struct{}

// Start implements blob.Observer. When nothing records (no SDK set: the
// span does not record and the instruments are disabled) it hands back
// the caller's context and no end, so the operation costs no more.
func (o *observer) Start(ctx context.Context, op blob.Operation) (context.Context, func(blob.Outcome)) {
	sctx, span := o.tracer.Start(ctx, spanName(op.Op), startOptions...)
	if !span.IsRecording() && !o.duration.Enabled(ctx) && !o.io.Enabled(ctx) && !o.errors.Enabled(ctx) && !o.retries.Enabled(ctx) {
		span.End()
		return ctx, nil
	}
	ctx = sctx
	if span.IsRecording() {
		attrs := []attribute.KeyValue{
			attribute.String("anyblob.operation", op.Op),
			attribute.String("anyblob.provider", op.Provider),
			attribute.String("anyblob.bucket", op.Bucket),
		}
		if cp, ok := cloudProviders[op.Provider]; ok {
			attrs = append(attrs, attribute.String("cloud.provider", cp))
		}
		s3 := op.Provider == "s3"
		if s3 {
			attrs = append(attrs, attribute.String("aws.s3.bucket", op.Bucket))
		}
		if o.keys && op.Key != "" {
			attrs = append(attrs, attribute.String("anyblob.key", op.Key))
			if s3 {
				attrs = append(attrs, attribute.String("aws.s3.key", op.Key))
			}
		}
		span.SetAttributes(attrs...)
	}
	if o.retries.Enabled(ctx) {
		ctx = context.WithValue(ctx, opKey{}, op) // for the retries' attributes
	}
	return ctx, func(out blob.Outcome) { o.end(ctx, span, op, out) }
}

func (o *observer) end(ctx context.Context, span trace.Span, op blob.Operation, out blob.Outcome) {
	kind := blob.KindName(out.Err)
	if span.IsRecording() {
		if op.Op == blob.OpRead || op.Op == blob.OpWrite {
			span.SetAttributes(attribute.Int64("anyblob.bytes", out.Bytes))
		}
		if out.Err != nil {
			span.SetAttributes(attribute.String("error.type", kind))
			span.SetStatus(codes.Error, blob.ErrorMessage(out.Err, o.keys))
		}
	}
	span.End()

	dur, io, errs := o.duration.Enabled(ctx), out.Bytes > 0 && o.io.Enabled(ctx), out.Err != nil && o.errors.Enabled(ctx)
	if !dur && !io && !errs {
		return
	}
	base := []attribute.KeyValue{attribute.String("anyblob.operation", op.Op), attribute.String("anyblob.provider", op.Provider)}
	if out.Err != nil {
		base = append(base, attribute.String("error.type", kind))
	}
	set := metric.WithAttributeSet(attribute.NewSet(base...))
	if dur {
		o.duration.Record(ctx, out.Duration.Seconds(), set)
	}
	if errs {
		o.errors.Add(ctx, 1, set)
	}
	if io {
		dir := "receive"
		if op.Op == blob.OpWrite {
			dir = "transmit"
		}
		o.io.Add(ctx, out.Bytes, metric.WithAttributes(base[0], base[1], attribute.String("network.io.direction", dir)))
	}
}

// Event implements blob.EventObserver: a span event, and for a retry a
// count.
func (o *observer) Event(ctx context.Context, e blob.Event) {
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		var attrs []attribute.KeyValue
		if e.Kind == blob.EventRetry {
			attrs = append(attrs, attribute.Int("anyblob.retry.attempt", e.Attempt),
				attribute.Float64("anyblob.retry.delay", e.Delay.Seconds()))
		}
		if e.Err != nil {
			attrs = append(attrs, attribute.String("error.type", blob.KindName(e.Err)),
				attribute.String("exception.message", blob.ErrorMessage(e.Err, o.keys)))
		}
		if e.Detail != "" {
			attrs = append(attrs, attribute.String("anyblob.detail", blob.RedactURLSecrets(e.Detail)))
		}
		span.AddEvent(e.Kind, trace.WithAttributes(attrs...), trace.WithTimestamp(time.Now()))
	}
	if e.Kind == blob.EventRetry && o.retries.Enabled(ctx) {
		op, _ := ctx.Value(opKey{}).(blob.Operation)
		o.retries.Add(ctx, 1, metric.WithAttributes(attribute.String("anyblob.operation", op.Op),
			attribute.String("anyblob.provider", op.Provider), attribute.String("error.type", blob.KindName(e.Err))))
	}
}
