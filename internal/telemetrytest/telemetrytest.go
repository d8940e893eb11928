// Package telemetrytest captures what a bucket's observers write, for
// tests that check what reaches logs and traces: the lines of blob.LogTo
// at debug and the spans of blob/otelblob, both with keys recorded, as
// one text. It is for tests only: it pulls in the OpenTelemetry SDK,
// which the library itself never imports.
package telemetrytest

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/otelblob"
)

// Capture returns b observed by blob.LogTo (debug, keys included) and by
// otelblob (keys included) with an in-memory exporter, and a function
// that returns everything recorded so far as text: every log line, and
// each span's name, attributes, status description and events with their
// attributes.
func Capture(t testing.TB, b blob.Bucket) (blob.Bucket, func() string) {
	t.Helper()
	var mu sync.Mutex
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	ob, err := otelblob.Observe(b, &otelblob.Options{TracerProvider: tp, Keys: true})
	if err != nil {
		t.Fatalf("telemetrytest: %v", err)
	}
	ob = blob.Observe(ob, blob.LogTo(logger, &blob.LogOptions{Keys: true}))
	return ob, func() string {
		var out strings.Builder
		mu.Lock()
		out.Write(logs.Bytes())
		mu.Unlock()
		for _, s := range exp.GetSpans().Snapshots() {
			out.WriteString(s.Name() + " " + s.Status().Description + "\n")
			for _, a := range s.Attributes() {
				out.WriteString(string(a.Key) + "=" + a.Value.Emit() + "\n")
			}
			for _, e := range s.Events() {
				out.WriteString(e.Name + "\n")
				for _, a := range e.Attributes {
					out.WriteString(string(a.Key) + "=" + a.Value.Emit() + "\n")
				}
			}
		}
		return out.String()
	}
}

// lockedWriter serializes the log handler's writes with the reader's.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
