package otelblob_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/memblob"
	"github.com/anyblob/anyblob/blob/otelblob"
)

// TestKeysStayOutByDefault: without Options.Keys, no span carries the key,
// not as an attribute and not inside an error's message.
func TestKeysStayOutByDefault(t *testing.T) {
	ctx := context.Background()
	exp := tracetest.NewInMemoryExporter()
	b, err := otelblob.Observe(memblob.New("keys"), &otelblob.Options{TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))})
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, blob.WriteAll(ctx, b, "patients/alice.pdf", []byte("x"), nil))
	_, err = b.Attributes(ctx, "patients/bob.pdf")
	require.ErrorIs(t, err, blob.ErrNotFound)
	spans := exp.GetSpans().Snapshots()
	require.Len(t, spans, 2)
	for _, s := range spans {
		for _, a := range s.Attributes() {
			require.NotContains(t, a.Value.Emit(), "patients/", "attribute %s", a.Key)
		}
		require.NotContains(t, s.Status().Description, "patients/")
	}
	require.Equal(t, codes.Error, spans[1].Status().Code)
	require.Contains(t, spans[1].Status().Description, "not found")
}

// BenchmarkObserver compares an Attributes call on a memory bucket bare
// and with the observer on the API's no-op providers (no SDK set):
//
//	go test -run '^$' -bench Observer -benchmem ./blob/otelblob
func BenchmarkObserver(b *testing.B) {
	ctx := context.Background()
	bare := memblob.New("bench")
	require.NoError(b, blob.WriteAll(ctx, bare, "k", []byte("x"), nil))
	noop, err := otelblob.Observe(bare, nil)
	require.NoError(b, err)
	for _, c := range []struct {
		name string
		b    blob.Bucket
	}{{"bare", bare}, {"otel-noop", noop}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.b.Attributes(ctx, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
