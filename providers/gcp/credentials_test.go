package gcp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/internal/gcpfake"
	"github.com/anyblob/anyblob/providers/gcp"
)

// recorder is a reverse proxy in front of fake-gcs-server that records the
// Authorization header of every request.
type recorder struct {
	URL  string
	mu   sync.Mutex
	seen []string
}

func newRecorder(t *testing.T, target string) *recorder {
	u, err := url.Parse(target)
	require.NoError(t, err)
	rec := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.Header.Get("Authorization"))
		rec.mu.Unlock()
		r.Host = u.Host // the emulator routes on its own host name
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

func (r *recorder) headers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// isolate leaves no way to real credentials or a real metadata server.
func isolate(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("CLOUDSDK_CONFIG", "")
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
}

// exercise writes, reads, lists and deletes through b.
func exercise(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	require.NoError(t, blob.WriteAll(ctx, b, "a/one", []byte("1"), nil))
	got, err := blob.ReadAll(ctx, b, "a/one")
	require.NoError(t, err)
	require.Equal(t, "1", string(got))
	_, err = b.List(ctx, &blob.ListOptions{Prefix: "a/"})
	require.NoError(t, err)
	require.NoError(t, b.Delete(ctx, "a/one"))
}

func requireEvery(t *testing.T, seen []string, want string) {
	t.Helper()
	require.GreaterOrEqual(t, len(seen), 4, "write, read, list and delete all went through the proxy")
	for i, h := range seen {
		require.Equal(t, want, h, "request %d", i)
	}
}

func TestMetadataServerTokenOnEveryRequest(t *testing.T) {
	isolate(t)
	md := gcpfake.NewMetadata(t, "md-token-42")
	t.Setenv("GCE_METADATA_HOST", md.Host)
	rec := newRecorder(t, emulator.FakeGCS(t, "bkt").Endpoint)

	b, err := gcp.OpenBucket(context.Background(), "bkt", gcp.Options{Endpoint: rec.URL, AllowInsecureCredentials: true})
	require.NoError(t, err)
	defer b.Close()
	exercise(t, b)
	requireEvery(t, rec.headers(), "Bearer md-token-42")
	require.GreaterOrEqual(t, md.Requests.Load(), int64(1))
}

func TestServiceAccountKeyFileOnEveryRequest(t *testing.T) {
	isolate(t)
	sa, te := gcpfake.NewServiceAccount(t, "sa-token-7")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", sa.File)
	rec := newRecorder(t, emulator.FakeGCS(t, "bkt").Endpoint)

	b, err := gcp.OpenBucket(context.Background(), "bkt", gcp.Options{Endpoint: rec.URL, AllowInsecureCredentials: true})
	require.NoError(t, err)
	defer b.Close()
	exercise(t, b)
	requireEvery(t, rec.headers(), "Bearer sa-token-7")
	require.Equal(t, int64(1), te.Grants.Load(), "one grant, reused for every request")

	// The same key signs URLs, with no signer configured.
	raw, err := b.SignedURL(context.Background(), "a/one", nil)
	require.NoError(t, err)
	_, err = checkV4(&sa.Key.PublicKey, sa.Email, raw, http.MethodGet, nil)
	require.NoError(t, err)
}

func TestNoCredentialsFound(t *testing.T) {
	isolate(t)
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:1") // nothing answers there
	_, err := gcp.OpenBucket(context.Background(), "bkt", gcp.Options{})
	require.ErrorIs(t, err, blob.ErrUnauthenticated)
	require.ErrorContains(t, err, "GOOGLE_APPLICATION_CREDENTIALS: skipped (not set)")
}

func TestCredentialsOnlyOverHTTPS(t *testing.T) {
	isolate(t)
	_, err := gcp.OpenBucket(context.Background(), "bkt", gcp.Options{Endpoint: "http://127.0.0.1:1"})
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.ErrorContains(t, err, "only sent over https")
}
