package gcp_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/internal/gcpfake"
	"github.com/anyblob/anyblob/providers/gcp"
)

// rotating is a token source whose token changes when the test says so.
type rotating struct {
	mu  sync.Mutex
	n   int
	tok *oauth2.Token
}

func (r *rotating) Token() (*oauth2.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tok, nil
}

func (r *rotating) rotate() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	// Close enough to its end that the storage library's own token cache
	// asks again on each request (it renews 225 s early), far enough that
	// oauth2's 10 s margin still takes it as valid.
	r.tok = &oauth2.Token{AccessToken: fmt.Sprintf("tok-SECRET-%d", r.n), TokenType: "Bearer", Expiry: time.Now().Add(100 * time.Second)}
}

// syncBuffer is a bytes.Buffer safe for the log handler's writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTokenRefreshIsLogged: a new token is a credential refresh event of
// the call that fetched it (or of the next call that listens, when the
// storage client fetched it on its own), logged through blob.LogTo on
// fake-gcs-server, and the token never reaches the log.
func TestTokenRefreshIsLogged(t *testing.T) {
	isolate(t)
	rec := newRecorder(t, emulator.FakeGCS(t, "bkt").Endpoint)
	src := &rotating{}
	src.rotate()
	var out syncBuffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	raw, err := gcp.OpenBucket(context.Background(), "bkt", gcp.Options{
		Endpoint: rec.URL, AllowInsecureCredentials: true,
		Credentials: &google.Credentials{TokenSource: src},
	})
	require.NoError(t, err)
	defer raw.Close()
	b := blob.Observe(raw, blob.LogTo(logger, nil))
	ctx := context.Background()

	require.NoError(t, blob.WriteAll(ctx, b, "k", []byte("x"), nil))
	_, err = b.Attributes(ctx, "k")
	require.NoError(t, err)
	require.NotContains(t, out.String(), "credentials_refresh", "the first token is no refresh")

	src.rotate()
	_, err = b.Attributes(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(out.String(), "msg=\"blob credentials_refresh\""), out.String())
	require.Contains(t, out.String(), `detail="gcp: a new token from Options.Credentials"`)

	// A token the storage client fetched during a call nobody listened to
	// is told by the next call that listens.
	src.rotate()
	_, err = raw.Attributes(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(out.String(), "msg=\"blob credentials_refresh\""))
	_, err = b.Attributes(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(out.String(), "msg=\"blob credentials_refresh\""), out.String())
	require.NotContains(t, out.String(), "tok-SECRET")
	require.Eventually(t, func() bool {
		_, err := raw.Attributes(ctx, "k")
		seen := rec.headers()
		return err == nil && seen[len(seen)-1] == "Bearer tok-SECRET-3"
	}, 5*time.Second, 10*time.Millisecond, "requests go with the newest token")
}

// TestSourceChoiceIsLoggedAtOpen: the GCP chain picks its source when the
// bucket is opened, so a context from WithEvents given to OpenBucket logs
// the choice.
func TestSourceChoiceIsLoggedAtOpen(t *testing.T) {
	isolate(t)
	md := gcpfake.NewMetadata(t, "md-token-SECRET")
	t.Setenv("GCE_METADATA_HOST", md.Host)
	var out syncBuffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := blob.WithEvents(context.Background(), blob.LogTo(logger, nil).Event)
	b, err := gcp.OpenBucket(ctx, "bkt", gcp.Options{Endpoint: emulator.FakeGCS(t, "bkt").Endpoint, AllowInsecureCredentials: true})
	require.NoError(t, err)
	defer b.Close()
	require.Contains(t, out.String(), `level=DEBUG msg="blob credentials_source" detail="gcp credential chain:`)
	require.Contains(t, out.String(), "metadata server: used")
	require.NotContains(t, out.String(), "SECRET")
}
