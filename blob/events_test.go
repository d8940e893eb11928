package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/events"
)

// retryingDriver announces a retry (cause: a 503 of its own kind) and a
// credential refresh during Attributes, as a provider's retry loop does.
type retryingDriver struct {
	blob.Bucket
}

var errSlowDown = errors.New("slow down: GET https://acct.blob.core.windows.net/c/k?sv=2020&sig=S3CR3T")

func (d *retryingDriver) Attributes(ctx context.Context, key string) (*blob.Attributes, error) {
	events.Notify(ctx, events.Event{Kind: events.Retry, Attempt: 1, Delay: 5e6, Err: errSlowDown})
	events.Notify(ctx, events.Event{Kind: events.CredentialsRefresh, Detail: "test: from the token file"})
	return nil, errSlowDown
}

func (d *retryingDriver) ErrorDetail(err error) blob.ErrorDetail {
	if errors.Is(err, errSlowDown) {
		return blob.ErrorDetail{Kind: blob.ErrThrottled, Code: "SlowDown", Status: 503}
	}
	return blob.ErrorDetail{}
}

type eventRecorder struct {
	recordingObserver
	events []blob.Event
	ctxs   []any
}

func (r *eventRecorder) Event(ctx context.Context, e blob.Event) {
	r.events = append(r.events, e)
	r.ctxs = append(r.ctxs, ctx.Value(ctxKey{}))
}

func TestEventObserversHearTheDriversNews(t *testing.T) {
	rec := &eventRecorder{}
	b := blob.Observe(blob.NewBucket("test", "bkt", &retryingDriver{Bucket: newMem(t)}), rec)
	_, err := b.Attributes(context.Background(), "secret/key")
	require.ErrorIs(t, err, blob.ErrThrottled)
	require.Len(t, rec.events, 2)
	retry := rec.events[0]
	require.Equal(t, blob.EventRetry, retry.Kind)
	require.Equal(t, 1, retry.Attempt)
	require.ErrorIs(t, retry.Err, blob.ErrThrottled, "the cause is classified by the driver")
	var be *blob.Error
	require.ErrorAs(t, retry.Err, &be)
	require.Equal(t, "SlowDown", be.Code)
	require.NotContains(t, retry.Err.Error(), "S3CR3T", "no signature in the cause's message")
	require.Equal(t, blob.EventCredentialsRefresh, rec.events[1].Kind)
	require.Equal(t, []any{"seen", "seen"}, rec.ctxs, "events come with the context the observer's Start returned")

	// An observer that does not hear events costs the driver nothing, and
	// WithEvents hears what runs with a context.
	var heard []string
	ctx := blob.WithEvents(context.Background(), func(_ context.Context, e blob.Event) { heard = append(heard, e.Kind) })
	plain := blob.NewBucket("test", "bkt", &retryingDriver{Bucket: newMem(t)})
	_, _ = plain.Attributes(ctx, "k")
	require.Equal(t, []string{blob.EventRetry, blob.EventCredentialsRefresh}, heard)
}

func TestLogTo(t *testing.T) {
	var out bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b := blob.Observe(blob.NewBucket("test", "bkt", &retryingDriver{Bucket: newMem(t)}), blob.LogTo(l, nil))
	_, _ = b.Attributes(context.Background(), "secret/key")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3)
	require.Contains(t, lines[0], `"level":"WARN","msg":"blob retry"`, "a throttled retry is a warning")
	require.Contains(t, lines[0], `"attempt":1`)
	require.Contains(t, lines[0], `"error.type":"throttled"`)
	require.Contains(t, lines[1], `"level":"DEBUG","msg":"blob credentials_refresh"`)
	require.Contains(t, lines[2], `"msg":"blob op","op":"attributes","provider":"test","bucket":"bkt"`)
	require.NotContains(t, out.String(), "secret/key", "keys only when asked for")
	require.NotContains(t, out.String(), "S3CR3T")

	out.Reset()
	b = blob.Observe(blob.NewBucket("test", "bkt", &retryingDriver{Bucket: newMem(t)}), blob.LogTo(l, &blob.LogOptions{Keys: true}))
	_, _ = b.Attributes(context.Background(), "secret/key")
	require.Contains(t, out.String(), `"key":"secret/key"`)

	// A chain's choice of source is debug, a re-sign after clock skew a
	// warning; both say what happened in their detail.
	out.Reset()
	lo := blob.LogTo(l, nil)
	lo.Event(context.Background(), blob.Event{Kind: blob.EventCredentialsSource, Detail: "aws: environment: used"})
	lo.Event(context.Background(), blob.Event{Kind: blob.EventClockSkew, Detail: "the server's clock is 1h0m0s ahead"})
	lines = strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2)
	require.Contains(t, lines[0], `"level":"DEBUG","msg":"blob credentials_source","detail":"aws: environment: used"`)
	require.Contains(t, lines[1], `"level":"WARN","msg":"blob clock_skew","detail":"the server's clock is 1h0m0s ahead"`)

	// Above debug, only the warning is written.
	out.Reset()
	l = slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	b = blob.Observe(blob.NewBucket("test", "bkt", &retryingDriver{Bucket: newMem(t)}), blob.LogTo(l, nil))
	_, _ = b.Attributes(context.Background(), "k")
	require.Equal(t, 1, strings.Count(out.String(), "\n"))
	require.Nil(t, blob.LogTo(nil, nil))
}

func TestRedactURLSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"no url here": "no url here",
		"GET https://a.blob/c/k?sv=1&sig=abc%2Bdef&se=2: x":                   "GET https://a.blob/c/k?sv=1&sig=REDACTED&se=2: x",
		`"https://b.s3/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ff00" EOF`: `"https://b.s3/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED" EOF`,
		"https://storage.googleapis.com/b/k?X-Goog-Signature=1a2b":            "https://storage.googleapis.com/b/k?X-Goog-Signature=REDACTED",
		"?access_token=ya29.x&alt=json":                                       "?access_token=REDACTED&alt=json",
		"&signature=s(1)":                                                     "&signature=REDACTED)",
		"?sigma=1&design=2":                                                   "?sigma=1&design=2",
	} {
		require.Equal(t, want, blob.RedactURLSecrets(in), in)
	}
	// Every *Error's message is redacted.
	cause := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/acct/c/k?sv=2020&sig=TOPSECRET", Err: errors.New("connection reset")}
	err := &blob.Error{Kind: blob.ErrInternal, Op: "read", Key: "k", Err: cause}
	require.NotContains(t, err.Error(), "TOPSECRET")
	require.Contains(t, err.Error(), "sig=REDACTED")
	require.NotContains(t, blob.ErrorMessage(fmt.Errorf("wrapped: %w", err), false), `"k"`)
	require.Contains(t, blob.ErrorMessage(err, true), `"k"`)
	require.Equal(t, "throttled", blob.KindName(blob.Errorf(blob.ErrThrottled, "x")))
	require.Equal(t, "precondition_failed", blob.KindName(blob.Errorf(blob.ErrPreconditionFailed, "x")))
	require.Equal(t, "", blob.KindName(nil))
}
