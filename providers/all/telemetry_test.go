package all_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/otelblob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/azure"
)

// TestTelemetryOnEveryCloud runs a few operations against MinIO, Azurite
// and fake-gcs-server through a fault proxy that fails one read with 503,
// with the OpenTelemetry SDK's in-memory exporter and manual reader and a
// JSON slog logger attached, and checks what they recorded: span names and
// attributes, the error kind of a failed operation, the retry as a span
// event, the metrics, and log lines without a secret.
func TestTelemetryOnEveryCloud(t *testing.T) {
	for _, fb := range faultyBackends(t, "telemetry", 3) {
		t.Run(fb.name, func(t *testing.T) {
			ctx := context.Background()
			exp := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

			b, err := otelblob.Observe(fb.open(t, fastRetry), &otelblob.Options{TracerProvider: tp, MeterProvider: mp, Keys: true})
			require.NoError(t, err)
			b = blob.Observe(b, blob.LogTo(logger, nil))

			data := pattern(20<<10, 4)
			require.NoError(t, blob.WriteAll(ctx, b, "t/obj", data, nil))
			fb.proxy.Add(faultproxy.Rule{Kind: faultproxy.Status503, Match: fb.isRead, Times: 1})
			got, err := blob.ReadAll(ctx, b, "t/obj")
			require.NoError(t, err)
			require.Equal(t, data, got)
			fb.proxy.Add(faultproxy.Rule{Kind: faultproxy.Status500, Match: fb.isRead, Times: 1})
			got, err = blob.ReadAll(ctx, b, "t/obj")
			require.NoError(t, err)
			require.Equal(t, data, got)
			_, err = b.Attributes(ctx, "t/missing")
			require.ErrorIs(t, err, blob.ErrNotFound)
			_, err = b.List(ctx, &blob.ListOptions{Prefix: "t/"})
			require.NoError(t, err)
			require.NoError(t, b.Copy(ctx, "t/copy", "t/obj", nil))
			require.NoError(t, b.Delete(ctx, "t/copy"))
			signed, err := b.SignedURL(ctx, "t/obj", nil)
			require.NoError(t, err)

			spans := map[string]sdktrace.ReadOnlySpan{}
			for _, s := range exp.GetSpans().Snapshots() {
				spans[s.Name()] = s
			}
			for _, name := range []string{"anyblob.write", "anyblob.read", "anyblob.attributes", "anyblob.list", "anyblob.copy", "anyblob.delete", "anyblob.sign"} {
				require.Contains(t, spans, name)
			}
			attrs := func(kv []attribute.KeyValue) map[string]attribute.Value {
				m := map[string]attribute.Value{}
				for _, a := range kv {
					m[string(a.Key)] = a.Value
				}
				return m
			}
			cloud := map[string]string{"s3": "aws", "azblob": "azure", "gs": "gcp"}[fb.name]
			read := spans["anyblob.read"]
			ra := attrs(read.Attributes())
			require.Equal(t, fb.name, ra["anyblob.provider"].AsString())
			require.Equal(t, "telemetry", ra["anyblob.bucket"].AsString())
			require.Equal(t, cloud, ra["cloud.provider"].AsString())
			require.Equal(t, "t/obj", ra["anyblob.key"].AsString())
			require.Equal(t, int64(len(data)), ra["anyblob.bytes"].AsInt64())
			require.Equal(t, codes.Unset, read.Status().Code)
			if fb.name == "s3" {
				require.Equal(t, "telemetry", ra["aws.s3.bucket"].AsString(), "S3's own semantic conventions")
				require.Equal(t, "t/obj", ra["aws.s3.key"].AsString())
			} else {
				require.NotContains(t, ra, "aws.s3.bucket")
			}
			sign := spans["anyblob.sign"]
			require.Equal(t, codes.Unset, sign.Status().Code)
			require.Equal(t, "t/obj", attrs(sign.Attributes())["anyblob.key"].AsString())
			u, err := url.Parse(signed)
			require.NoError(t, err)
			for _, s := range exp.GetSpans().Snapshots() {
				for _, a := range s.Attributes() {
					require.NotContains(t, a.Value.Emit(), u.RawQuery, "no span holds the signed URL's query")
				}
			}
			// Each read's span records its retry, with its cause.
			causes := map[string]int{}
			for _, s := range exp.GetSpans().Snapshots() {
				if s.Name() != "anyblob.read" {
					continue
				}
				for _, e := range s.Events() {
					if e.Name == "retry" {
						ea := attrs(e.Attributes)
						require.Equal(t, int64(1), ea["anyblob.retry.attempt"].AsInt64())
						require.GreaterOrEqual(t, ea["anyblob.retry.delay"].AsFloat64(), 0.0)
						require.NotEmpty(t, ea["exception.message"].AsString())
						causes[ea["error.type"].AsString()]++
					}
				}
			}
			require.Equal(t, map[string]int{"throttled": 1, "internal_error": 1}, causes, "a 503 is the service asking to slow down, a 500 its own failure")
			miss := spans["anyblob.attributes"]
			require.Equal(t, codes.Error, miss.Status().Code)
			require.Equal(t, "not_found", attrs(miss.Attributes())["error.type"].AsString())
			require.Equal(t, int64(len(data)), attrs(spans["anyblob.write"].Attributes())["anyblob.bytes"].AsInt64())

			var rm metricdata.ResourceMetrics
			require.NoError(t, reader.Collect(ctx, &rm))
			metrics := map[string]metricdata.Aggregation{}
			for _, sm := range rm.ScopeMetrics {
				require.Equal(t, otelblob.ScopeName, sm.Scope.Name)
				for _, m := range sm.Metrics {
					metrics[m.Name] = m.Data
				}
			}
			hist := metrics["anyblob.client.operation.duration"].(metricdata.Histogram[float64])
			ops := map[string]uint64{}
			for _, dp := range hist.DataPoints {
				op, _ := dp.Attributes.Value("anyblob.operation")
				ops[op.AsString()] += dp.Count
			}
			require.Equal(t, map[string]uint64{"write": 1, "read": 2, "attributes": 1, "list": 1, "copy": 1, "delete": 1, "sign": 1}, ops)
			// Each point is one operation, provider and outcome: error.type
			// names the failure, and only failures have it.
			for _, dp := range hist.DataPoints {
				op, _ := dp.Attributes.Value("anyblob.operation")
				provider, _ := dp.Attributes.Value("anyblob.provider")
				require.Equal(t, fb.name, provider.AsString())
				kind, failed := dp.Attributes.Value("error.type")
				if op.AsString() == "attributes" {
					require.True(t, failed)
					require.Equal(t, "not_found", kind.AsString())
				} else {
					require.False(t, failed, "%s succeeded", op.AsString())
				}
			}
			sum := func(name string, want map[string]string) int64 {
				var n int64
				for _, dp := range metrics[name].(metricdata.Sum[int64]).DataPoints {
					match := true
					for k, v := range want {
						if got, _ := dp.Attributes.Value(attribute.Key(k)); got.AsString() != v {
							match = false
						}
					}
					if match {
						n += dp.Value
					}
				}
				return n
			}
			require.Equal(t, int64(1), sum("anyblob.client.retries", map[string]string{"anyblob.operation": "read", "error.type": "throttled"}))
			require.Equal(t, int64(1), sum("anyblob.client.retries", map[string]string{"anyblob.operation": "read", "error.type": "internal_error"}))
			require.Equal(t, int64(1), sum("anyblob.client.errors", map[string]string{"anyblob.operation": "attributes", "error.type": "not_found"}))
			require.Equal(t, int64(2*len(data)), sum("anyblob.client.io", map[string]string{"network.io.direction": "receive"}))
			require.Equal(t, int64(len(data)), sum("anyblob.client.io", map[string]string{"network.io.direction": "transmit"}))

			out := logs.String()
			require.Contains(t, out, `"msg":"blob retry"`)
			require.Contains(t, out, `"level":"WARN"`, "a throttled retry is a warning")
			require.Contains(t, out, `"msg":"blob op"`)
			require.NotContains(t, out, "t/obj", "keys are not logged unless asked for")
			for _, secret := range []string{emulator.AzuriteKey, "anyblob-test-secret-key"} {
				require.NotContains(t, out, secret)
			}
		})
	}
}

// TestSASNeverReachesLogsOrSpans reads through a SAS token from Azurite
// while the proxy cuts the answer: the transport error quotes the request
// URL with its signature, and neither the log nor the span may carry it.
func TestSASNeverReachesLogsOrSpans(t *testing.T) {
	fbs := faultyBackends(t, "sas", 5)
	fb := fbs[1]
	require.Equal(t, "azblob", fb.name)
	ctx := context.Background()
	require.NoError(t, blob.WriteAll(ctx, fb.direct, "k", []byte("secret content"), nil))
	signed, err := fb.direct.SignedURL(ctx, "k", &blob.SignedURLOptions{Expiry: 3600e9})
	require.NoError(t, err)
	u, err := url.Parse(signed)
	require.NoError(t, err)
	sig := u.Query().Get("sig")
	require.NotEmpty(t, sig)

	c, err := azure.New(ctx, azure.Options{ServiceURL: fb.proxy.URL() + "/" + emulator.AzuriteAccount, SASToken: u.RawQuery, Retry: fastRetry})
	require.NoError(t, err)
	sasBucket, err := c.Bucket("sas")
	require.NoError(t, err)
	exp := tracetest.NewInMemoryExporter()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := otelblob.Observe(sasBucket, &otelblob.Options{TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))})
	require.NoError(t, err)
	b = blob.Observe(b, blob.LogTo(logger, nil))

	fb.proxy.Add(faultproxy.Rule{Kind: faultproxy.ResetResponse, Match: fb.isRead, Times: 1})
	got, err := blob.ReadAll(ctx, b, "k")
	require.NoError(t, err)
	require.Equal(t, "secret content", string(got))
	fb.proxy.Add(faultproxy.Rule{Kind: faultproxy.ResetResponse, Match: fb.isRead, Times: 10})
	_, err = blob.ReadAll(ctx, b, "k")
	require.Error(t, err)
	require.NotContains(t, err.Error(), sig, "the error names no signature")

	out := logs.String()
	require.Contains(t, out, `"msg":"blob retry"`)
	require.Contains(t, out, "REDACTED", "the URL in the cause is there, without its signature")
	require.NotContains(t, out, sig)
	var recorded strings.Builder
	for _, s := range exp.GetSpans().Snapshots() {
		recorded.WriteString(s.Status().Description)
		for _, e := range s.Events() {
			for _, a := range e.Attributes {
				recorded.WriteString(a.Value.Emit())
			}
		}
	}
	require.NotEmpty(t, recorded.String())
	require.NotContains(t, recorded.String(), sig)
}
