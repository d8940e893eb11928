package gcp_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/gcp"
)

const testSignerEmail = "signer@anyblob-test.iam.gserviceaccount.com"

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func rsaKey(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// testKeyPEM is a PKCS#8 PEM private key made for the test run.
func testKeyPEM(t *testing.T) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey(t))
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// verifyV4 checks a GOOG4-RSA-SHA256 signed URL from scratch, following
// the V4 signing process: canonical request, string to sign, RSA-SHA256
// over it with the signer's public key. It returns the parsed query.
func verifyV4(t *testing.T, raw, method string, headers map[string]string) url.Values {
	t.Helper()
	q, err := checkV4(&rsaKey(t).PublicKey, testSignerEmail, raw, method, headers)
	require.NoError(t, err)
	return q
}

func checkV4(pub *rsa.PublicKey, email, raw, method string, headers map[string]string) (url.Values, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	if a := q.Get("X-Goog-Algorithm"); a != "GOOG4-RSA-SHA256" {
		return nil, fmt.Errorf("algorithm %q", a)
	}
	date := q.Get("X-Goog-Date")
	if _, err := time.Parse("20060102T150405Z", date); err != nil {
		return nil, fmt.Errorf("X-Goog-Date %q: %v", date, err)
	}
	scope := date[:8] + "/auto/storage/goog4_request"
	if c := q.Get("X-Goog-Credential"); c != email+"/"+scope {
		return nil, fmt.Errorf("credential %q", c)
	}

	// Canonical query: every parameter but the signature, encoded, sorted.
	var params []string
	for k, vs := range q {
		if k == "X-Goog-Signature" {
			continue
		}
		for _, v := range vs {
			params = append(params, encode(k)+"="+encode(v))
		}
	}
	sort.Strings(params)

	// The host header is signed without the port, as the storage client
	// signs it (Google's endpoint is always on the default port; only an
	// emulator has one).
	hdrs := map[string]string{"host": u.Hostname()}
	for k, v := range headers {
		hdrs[strings.ToLower(k)] = v
	}
	names := strings.Split(q.Get("X-Goog-SignedHeaders"), ";")
	if !sort.StringsAreSorted(names) {
		return nil, fmt.Errorf("signed headers %v are not sorted", names)
	}
	var canonHeaders strings.Builder
	for _, n := range names {
		v, ok := hdrs[n]
		if !ok {
			return nil, fmt.Errorf("signed header %q is not one the request sends", n)
		}
		fmt.Fprintf(&canonHeaders, "%s:%s\n", n, strings.TrimSpace(v))
	}
	canonical := strings.Join([]string{
		method, u.EscapedPath(), strings.Join(params, "&"), canonHeaders.String(),
		q.Get("X-Goog-SignedHeaders"), "UNSIGNED-PAYLOAD",
	}, "\n")
	sum := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{"GOOG4-RSA-SHA256", date, scope, hex.EncodeToString(sum[:])}, "\n")
	sig, err := hex.DecodeString(q.Get("X-Goog-Signature"))
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256([]byte(toSign))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return nil, fmt.Errorf("signature does not verify (%v); canonical request:\n%s", err, canonical)
	}
	return q, nil
}

// encode is the V4 URI encoding: everything but A-Z a-z 0-9 - _ . ~ as %XX.
func encode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func TestSignedURLsFollowV4(t *testing.T) {
	srv := emulator.FakeGCS(t, "signed")
	ctx := context.Background()
	b, err := gcp.OpenBucket(ctx, "signed", gcp.Options{
		Endpoint: srv.Endpoint, Anonymous: true, SignerEmail: testSignerEmail, SignerKey: testKeyPEM(t),
	})
	require.NoError(t, err)
	defer b.Close()

	tests := []struct {
		name    string
		key     string
		opts    blob.SignedURLOptions
		headers map[string]string
	}{
		{"GET", "dir/a file+é.txt", blob.SignedURLOptions{Method: http.MethodGet, Expiry: 90 * time.Second}, nil},
		{"PUT with a type", "up.json", blob.SignedURLOptions{Method: http.MethodPut, Expiry: time.Hour, ContentType: "application/json"},
			map[string]string{"content-type": "application/json"}},
		{"DELETE", "gone", blob.SignedURLOptions{Method: http.MethodDelete, Expiry: 7 * 24 * time.Hour}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := b.SignedURL(ctx, tt.key, &tt.opts)
			require.NoError(t, err)
			q := verifyV4(t, raw, tt.opts.Method, tt.headers)
			want := int(tt.opts.Expiry.Seconds())
			if tt.opts.Expiry == blob.MaxSignedURLExpiry {
				want-- // documented: the maximum comes out one second short
			}
			require.Equal(t, fmt.Sprint(want), q.Get("X-Goog-Expires"))
			u, _ := url.Parse(raw)
			require.Equal(t, "/signed/"+tt.key, u.Path, "path style, the key as given")
			require.Equal(t, srv.Host, u.Host)
		})
	}

	t.Run("tampering breaks the signature", func(t *testing.T) {
		raw, err := b.SignedURL(ctx, "k", &blob.SignedURLOptions{Method: http.MethodGet})
		require.NoError(t, err)
		verifyV4(t, raw, http.MethodGet, nil)
		_, err = checkV4(&rsaKey(t).PublicKey, testSignerEmail, raw, http.MethodPut, nil)
		require.ErrorContains(t, err, "does not verify", "another method")
		_, err = checkV4(&rsaKey(t).PublicKey, testSignerEmail, strings.Replace(raw, "/signed/k", "/signed/other", 1), http.MethodGet, nil)
		require.ErrorContains(t, err, "does not verify", "another key")
	})
}
