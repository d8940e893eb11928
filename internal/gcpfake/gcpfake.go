// Package gcpfake has loopback fakes of the Google endpoints that hand out
// tokens (the metadata server and the OAuth2 token endpoint), for tests
// that must never reach the real ones.
package gcpfake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// Metadata is a fake GCE metadata server on 127.0.0.1.
type Metadata struct {
	// Host is "127.0.0.1:PORT", the value for GCE_METADATA_HOST.
	Host string
	// Requests counts token requests.
	Requests atomic.Int64
}

// NewMetadata starts a metadata server that hands out token for the
// default service account, answering only requests with the
// Metadata-Flavor: Google header, and stops it when t ends.
func NewMetadata(t testing.TB, token string) *Metadata {
	m := &Metadata{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata-Flavor") != "Google" {
			http.Error(w, "missing Metadata-Flavor", http.StatusForbidden)
			return
		}
		w.Header().Set("Metadata-Flavor", "Google")
		switch r.URL.Path {
		case "/computeMetadata/v1/instance/service-accounts/default/token":
			m.Requests.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600,"token_type":"Bearer"}`, token)
		case "/computeMetadata/v1/instance/service-accounts/default/email":
			fmt.Fprint(w, "default@anyblob-test.iam.gserviceaccount.com")
		case "/computeMetadata/v1/project/project-id":
			fmt.Fprint(w, "anyblob-test")
		case "/", "/computeMetadata/v1/":
			fmt.Fprint(w, "ok")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	m.Host = strings.TrimPrefix(srv.URL, "http://")
	return m
}

// TokenEndpoint is a fake OAuth2 token endpoint for service-account JWTs.
type TokenEndpoint struct {
	URL string
	// Grants counts the tokens handed out.
	Grants atomic.Int64
}

// ServiceAccount is a service-account key made for a test.
type ServiceAccount struct {
	Email string
	Key   *rsa.PrivateKey
	// File is the path of the key file, JSON as Google issues it, whose
	// token_uri is the fake endpoint.
	File string
}

// NewServiceAccount makes a key, a key file in a temp directory, and a
// token endpoint that checks the JWT bearer grant's signature with the
// key's public half before handing out token.
func NewServiceAccount(t testing.TB, token string) (*ServiceAccount, *TokenEndpoint) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sa := &ServiceAccount{Email: "writer@anyblob-test.iam.gserviceaccount.com", Key: key}
	te := &TokenEndpoint{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		if err := checkJWT(r.Form.Get("assertion"), &key.PublicKey, sa.Email); err != nil {
			http.Error(w, `{"error":"invalid_grant","error_description":"`+err.Error()+`"}`, http.StatusBadRequest)
			return
		}
		te.Grants.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600,"token_type":"Bearer"}`, token)
	}))
	t.Cleanup(srv.Close)
	te.URL = srv.URL + "/token"

	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "anyblob-test", "private_key_id": "test-key-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": sa.Email, "client_id": "1", "token_uri": te.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	sa.File = filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(sa.File, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return sa, te
}

// checkJWT verifies an RS256 JWT's signature and issuer.
func checkJWT(jwt string, pub *rsa.PublicKey, issuer string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return fmt.Errorf("assertion is not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("bad signature encoding")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("bad signature")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("bad payload encoding")
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Iss != issuer {
		return fmt.Errorf("wrong issuer %q", claims.Iss)
	}
	return nil
}
