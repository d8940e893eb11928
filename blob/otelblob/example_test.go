package otelblob_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/anyblob/anyblob/blob"
	_ "github.com/anyblob/anyblob/blob/memblob"
	"github.com/anyblob/anyblob/blob/otelblob"
)

// An application wires its OpenTelemetry SDK (here an in-memory exporter;
// in production an OTLP one) and observes its bucket.
func Example() {
	ctx := context.Background()
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))

	b, err := blob.OpenBucket(ctx, "mem://example")
	if err != nil {
		panic(err)
	}
	defer b.Close()
	b, err = otelblob.Observe(b, &otelblob.Options{TracerProvider: tp})
	if err != nil {
		panic(err)
	}
	_ = blob.WriteAll(ctx, b, "hello.txt", []byte("hi"), nil)
	_, err = b.Attributes(ctx, "missing.txt")

	for _, s := range exporter.GetSpans().Snapshots() {
		fmt.Println(s.Name(), s.Status().Code)
	}
	// Output:
	// anyblob.write Unset
	// anyblob.attributes Error
}
