package gcp_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/stretchr/testify/require"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"

	"github.com/anyblob/anyblob/auth/gcpcred"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/gcpfake"
	"github.com/anyblob/anyblob/providers/gcp"
)

// Signed URLs without a private key: the storage library finds the
// signer's email (the metadata server's default account, or the account
// an impersonated_service_account file names) and has IAM Credentials
// signBlob sign the V4 string to sign. No option of gcp.Options points
// signBlob elsewhere, and none is needed: the library sends it through
// the client's HTTP client, so a test gives the client (through
// Options.ClientOptions) an HTTP client with the same auth layer as the
// storage library's own, over a transport that routes
// iamcredentials.googleapis.com to a loopback fake and refuses any other
// host.

const iamHost = "iamcredentials.googleapis.com"

// fakeSignBlob is IAM Credentials on loopback: signBlob (and, for an
// impersonated account, generateAccessToken), signing with the test key.
type fakeSignBlob struct {
	URL string
	// Tokens maps an account to the bearer token signBlob wants for it.
	Tokens map[string]string
	// Key signs the blobs.
	Key *rsa.PrivateKey
	// Refuse makes signBlob answer 403.
	Refuse bool

	mu       sync.Mutex
	payloads []string
}

func newFakeSignBlob(t *testing.T, tokens map[string]string) *fakeSignBlob {
	f := &fakeSignBlob{Tokens: tokens, Key: rsaKey(t)}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeSignBlob) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	refuse := func(code int, why string) {
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"code":%d,"message":%q,"status":"PERMISSION_DENIED"}}`, code, why)
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/v1/projects/-/serviceAccounts/")
	if !ok || r.Method != http.MethodPost {
		refuse(http.StatusNotFound, "not an IAM Credentials method")
		return
	}
	email, method, _ := strings.Cut(name, ":")
	want, known := f.Tokens[email]
	if !known || r.Header.Get("Authorization") != "Bearer "+want {
		refuse(http.StatusUnauthorized, "the caller may not act as "+email)
		return
	}
	switch method {
	case "generateAccessToken":
		fmt.Fprintf(w, `{"accessToken":"as-%s","expireTime":%q}`, email, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	case "signBlob":
		f.signBlob(w, r, email, refuse)
	default:
		refuse(http.StatusNotFound, "no method "+method)
	}
}

func (f *fakeSignBlob) signBlob(w http.ResponseWriter, r *http.Request, email string, refuse func(int, string)) {
	if f.Refuse {
		refuse(http.StatusForbidden, "Permission 'iam.serviceAccounts.signBlob' denied on "+email)
		return
	}
	var req struct {
		Payload string `json:"payload"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		refuse(http.StatusBadRequest, "body is not JSON")
		return
	}
	payload, err := base64.StdEncoding.DecodeString(req.Payload)
	if err != nil {
		refuse(http.StatusBadRequest, "payload is not base64")
		return
	}
	if err := checkStringToSign(string(payload)); err != nil {
		refuse(http.StatusBadRequest, err.Error())
		return
	}
	f.mu.Lock()
	f.payloads = append(f.payloads, string(payload))
	f.mu.Unlock()
	sum := sha256.Sum256(payload)
	sig, err := rsa.SignPKCS1v15(nil, f.Key, crypto.SHA256, sum[:])
	if err != nil {
		refuse(http.StatusInternalServerError, "signing failed")
		return
	}
	fmt.Fprintf(w, `{"keyId":"test-key-1","signedBlob":%q}`, base64.StdEncoding.EncodeToString(sig))
}

func (f *fakeSignBlob) signed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.payloads...)
}

// checkStringToSign checks that s is a V4 string to sign:
// GOOG4-RSA-SHA256, the time, the scope of that day, the hex SHA-256 of
// a canonical request.
func checkStringToSign(s string) error {
	lines := strings.Split(s, "\n")
	if len(lines) != 4 || lines[0] != "GOOG4-RSA-SHA256" {
		return fmt.Errorf("payload is not a V4 string to sign")
	}
	if _, err := time.Parse("20060102T150405Z", lines[1]); err != nil {
		return fmt.Errorf("payload time %q", lines[1])
	}
	if lines[2] != lines[1][:8]+"/auto/storage/goog4_request" {
		return fmt.Errorf("payload scope %q", lines[2])
	}
	if h, err := hex.DecodeString(lines[3]); err != nil || len(h) != sha256.Size {
		return fmt.Errorf("payload hash %q", lines[3])
	}
	return nil
}

// iamRouter sends requests for iamcredentials.googleapis.com, which must
// be https, to the fake, and refuses every other host (nothing reaches
// the internet).
type iamRouter struct{ fake *url.URL }

func (rt iamRouter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != iamHost || r.URL.Scheme != "https" {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, fmt.Errorf("test transport: no request to %s://%s", r.URL.Scheme, r.URL.Host)
	}
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rt.fake.Scheme, rt.fake.Host, ""
	return http.DefaultTransport.RoundTrip(r)
}

// openSigning opens a bucket on Google's endpoint whose credentials come
// from the chain, with an HTTP client that authenticates as the storage
// library does and routes IAM Credentials to fake.
func openSigning(t *testing.T, fake *fakeSignBlob) blob.Bucket {
	ctx := context.Background()
	creds, _, err := gcpcred.Find(ctx, &gcpcred.Options{Scopes: []string{storage.ScopeFullControl}})
	require.NoError(t, err)
	u, err := url.Parse(fake.URL)
	require.NoError(t, err)
	rt, err := htransport.NewTransport(ctx, iamRouter{fake: u}, option.WithCredentials(creds))
	require.NoError(t, err)
	b, err := gcp.OpenBucket(ctx, "signblob", gcp.Options{
		Credentials:   creds,
		ClientOptions: []option.ClientOption{option.WithHTTPClient(&http.Client{Transport: rt})},
	})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return b
}

func TestSignedURLWithIAMSignBlob(t *testing.T) {
	const mdEmail = "default@anyblob-test.iam.gserviceaccount.com" // gcpfake's default account
	ctx := context.Background()
	pub := &rsaKey(t).PublicKey

	t.Run("metadata server account", func(t *testing.T) {
		isolate(t)
		md := gcpfake.NewMetadata(t, "md-token-sign")
		t.Setenv("GCE_METADATA_HOST", md.Host)
		fake := newFakeSignBlob(t, map[string]string{mdEmail: "md-token-sign"})
		b := openSigning(t, fake)

		tests := []struct {
			key     string
			opts    blob.SignedURLOptions
			headers map[string]string
		}{
			{"dir/a file+é.txt", blob.SignedURLOptions{Method: http.MethodGet, Expiry: time.Hour}, nil},
			{"up.json", blob.SignedURLOptions{Method: http.MethodPut, Expiry: 10 * time.Minute, ContentType: "application/json"},
				map[string]string{"content-type": "application/json"}},
		}
		for i, tt := range tests {
			raw, err := b.SignedURL(ctx, tt.key, &tt.opts)
			require.NoError(t, err)
			q, err := checkV4(pub, mdEmail, raw, tt.opts.Method, tt.headers)
			require.NoError(t, err, "the URL verifies with the key IAM signed with")
			require.Equal(t, fmt.Sprint(int(tt.opts.Expiry.Seconds())), q.Get("X-Goog-Expires"))
			u, _ := url.Parse(raw)
			require.Equal(t, "https", u.Scheme)
			require.Equal(t, "storage.googleapis.com", u.Host)
			require.Equal(t, "/signblob/"+tt.key, u.Path)
			require.Len(t, fake.signed(), i+1, "one signBlob call per URL")
		}
	})

	t.Run("impersonated service account", func(t *testing.T) {
		isolate(t)
		const target = "signer@anyblob-test.iam.gserviceaccount.com"
		user := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ParseForm() != nil || r.PostForm.Get("refresh_token") != "REFRESH" {
				http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"user-token","expires_in":3600,"token_type":"Bearer"}`)
		}))
		t.Cleanup(user.Close)
		// The user may impersonate target; target's token may sign as target.
		fake := newFakeSignBlob(t, map[string]string{target: "as-" + target})
		impersonation := newFakeSignBlob(t, map[string]string{target: "user-token"})
		data, err := json.Marshal(map[string]any{
			"type":                              "impersonated_service_account",
			"service_account_impersonation_url": impersonation.URL + "/v1/projects/-/serviceAccounts/" + target + ":generateAccessToken",
			"source_credentials": map[string]any{
				"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "REFRESH", "token_uri": user.URL + "/token",
			},
		})
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "impersonated.json")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", path)

		b := openSigning(t, fake)
		raw, err := b.SignedURL(ctx, "k", &blob.SignedURLOptions{Method: http.MethodGet, Expiry: time.Minute})
		require.NoError(t, err)
		_, err = checkV4(pub, target, raw, http.MethodGet, nil)
		require.NoError(t, err, "signed as the impersonated account")
		require.Len(t, fake.signed(), 1)
	})

	t.Run("signBlob refused", func(t *testing.T) {
		isolate(t)
		md := gcpfake.NewMetadata(t, "md-token-refused")
		t.Setenv("GCE_METADATA_HOST", md.Host)
		fake := newFakeSignBlob(t, map[string]string{mdEmail: "md-token-refused"})
		fake.Refuse = true
		b := openSigning(t, fake)
		_, err := b.SignedURL(ctx, "k", &blob.SignedURLOptions{Method: http.MethodGet, Expiry: time.Minute})
		require.Error(t, err)
		require.ErrorIs(t, err, blob.ErrPermissionDenied, "a refused signBlob is a permission to grant: %v", err)
		require.ErrorContains(t, err, "signBlob")
		require.NotContains(t, err.Error(), "md-token-refused", "no token in the error")
	})
}
