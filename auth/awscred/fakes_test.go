package awscred_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anyblob/anyblob/auth/sigv4"
)

// env is a test environment: HOME in a temp dir, IMDS disabled unless the
// test says otherwise.
type env map[string]string

func newEnv(t *testing.T) env {
	return env{"HOME": t.TempDir(), "AWS_EC2_METADATA_DISABLED": "true"}
}

func (e env) get(k string) string { return e[k] }

// write puts a shared file under HOME/.aws.
func (e env) write(t *testing.T, name, content string) {
	dir := filepath.Join(e["HOME"], ".aws")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// stsCall is one request the fake STS received.
type stsCall struct {
	Action string
	Form   map[string]string
	Signed bool
	// SignedBy is the access key ID of a signature the fake verified.
	SignedBy string
}

// fakeSTS answers AssumeRole and AssumeRoleWithWebIdentity with numbered
// credentials and records every call.
type fakeSTS struct {
	URL   string
	mu    sync.Mutex
	calls []stsCall
}

func newSTS(t *testing.T) *fakeSTS {
	f := &fakeSTS{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		form, err2 := url.ParseQuery(string(body))
		if err != nil || err2 != nil {
			http.Error(w, "bad form", 400)
			return
		}
		c := stsCall{Action: form.Get("Action"), Form: map[string]string{}, Signed: strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")}
		for k := range form {
			c.Form[k] = form.Get(k)
		}
		if c.Signed {
			// Check the signature as STS would, with the key it names:
			// the base profile's or one this fake handed out.
			r.Body = io.NopCloser(bytes.NewReader(body))
			v := &sigv4.Verifier{Service: "sts", Region: "us-east-1", Credentials: f.lookup}
			id, err := v.Verify(r)
			if err != nil {
				http.Error(w, "bad signature: "+err.Error(), http.StatusForbidden)
				return
			}
			c.SignedBy = id.AccessKeyID
		}
		f.mu.Lock()
		f.calls = append(f.calls, c)
		n := len(f.calls)
		f.mu.Unlock()
		fmt.Fprintf(w, `<%[1]sResponse><%[1]sResult><Credentials><AccessKeyId>ASIA%[2]d</AccessKeyId><SecretAccessKey>secret-%[2]d</SecretAccessKey><SessionToken>token-%[2]d</SessionToken><Expiration>%[3]s</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn></AssumedRoleUser></%[1]sResult></%[1]sResponse>`,
			c.Action, n, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// lookup finds the secret of the tests' base keys and of the keys the fake
// issued (ASIAn → secret-n, token-n).
func (f *fakeSTS) lookup(_ context.Context, id string) (sigv4.Credentials, error) {
	known := map[string]sigv4.Credentials{
		"AKIABASE":    {SecretAccessKey: "base-secret"},
		"AKIAENVBASE": {SecretAccessKey: "env-secret"},
		"AKIAENV":     {SecretAccessKey: "TOPSECRET-KEY", SessionToken: "TOPSECRET-TOKEN"},
	}
	if c, ok := known[id]; ok {
		c.AccessKeyID = id
		return c, nil
	}
	if n, ok := strings.CutPrefix(id, "ASIA"); ok {
		return sigv4.Credentials{AccessKeyID: id, SecretAccessKey: "secret-" + n, SessionToken: "token-" + n}, nil
	}
	return sigv4.Credentials{}, fmt.Errorf("unknown key %s", id)
}

func (f *fakeSTS) recorded() []stsCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]stsCall(nil), f.calls...)
}

// fakeIMDS is an instance metadata service. tokenStatus is what the token
// PUT answers (200 gives a token).
type fakeIMDS struct {
	URL         string
	tokenStatus int
	expiration  string
	mu          sync.Mutex
	log         []string
}

func newIMDS(t *testing.T, tokenStatus int, expiration string) *fakeIMDS {
	f := &fakeIMDS{tokenStatus: tokenStatus, expiration: expiration}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		tok := r.Header.Get("X-aws-ec2-metadata-token")
		f.log = append(f.log, r.Method+" "+r.URL.Path+" token="+tok)
		f.mu.Unlock()
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			if f.tokenStatus != 200 {
				http.Error(w, "no", f.tokenStatus)
				return
			}
			fmt.Fprint(w, "imds-token")
		case f.tokenStatus == 200 && tok != "imds-token":
			http.Error(w, "token required", http.StatusUnauthorized)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			fmt.Fprint(w, "first-role\nsecond-role")
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/first-role":
			fmt.Fprintf(w, `{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS","SecretAccessKey":"imds-secret","Token":"imds-session","Expiration":%q}`, f.expiration)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeIMDS) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// fakeSSO is IAM Identity Center: an SSO OIDC server (CreateToken with a
// refresh token) and a portal (GetRoleCredentials), on two loopback
// servers so that tests can tell which endpoint was used. Both check what
// they receive; a refusal's body echoes what was sent, as a careless
// server might, so that tests can check it never reaches an error.
type fakeSSO struct {
	OIDCURL, PortalURL string
	// account and role are what the portal expects in its query.
	account, role string
	// expiration is the roleCredentials expiration, ms since the epoch.
	expiration int64

	mu sync.Mutex
	// accepted are the access tokens the portal takes.
	accepted map[string]bool
	// client and refresh are what CreateToken expects.
	clientID, clientSecret, refreshToken string
	portalCalls                          []url.Values
	bearers                              []string
	refreshBodies                        []map[string]string
}

func newSSO(t *testing.T, account, role string, accepted ...string) *fakeSSO {
	f := &fakeSSO{account: account, role: role, accepted: map[string]bool{}, expiration: time.Now().Add(time.Hour).Truncate(time.Millisecond).UnixMilli()}
	for _, a := range accepted {
		f.accepted[a] = true
	}
	portalH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("x-amz-sso_bearer_token")
		f.mu.Lock()
		f.portalCalls = append(f.portalCalls, r.URL.Query())
		f.bearers = append(f.bearers, tok)
		n := len(f.portalCalls)
		ok := f.accepted[tok]
		f.mu.Unlock()
		switch {
		case r.Method != http.MethodGet || r.URL.Path != "/federation/credentials":
			http.NotFound(w, r)
		case !ok:
			w.Header().Set("x-amzn-ErrorType", "UnauthorizedException:http://internal.amazon.com/coral/")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"message":"Session token %s not found or invalid"}`, tok)
		case r.URL.Query().Get("account_id") != f.account || r.URL.Query().Get("role_name") != f.role:
			w.Header().Set("x-amzn-ErrorType", "ForbiddenException")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"message":"No access for token %s"}`, tok)
		default:
			fmt.Fprintf(w, `{"roleCredentials":{"accessKeyId":"ASIASSO%[1]d","secretAccessKey":"secret-SSO%[1]d","sessionToken":"token-SSO%[1]d","expiration":%[2]d}}`, n, f.expiration)
		}
	})
	oidcH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		err := json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.refreshBodies = append(f.refreshBodies, body)
		n := len(f.refreshBodies)
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/token" || r.Header.Get("Content-Type") != "application/json" || err != nil:
			http.Error(w, "bad request", http.StatusBadRequest)
		case body["grantType"] != "refresh_token" || body["clientId"] != f.clientID || body["clientSecret"] != f.clientSecret || body["refreshToken"] != f.refreshToken:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"refresh token %s of client secret %s is not valid"}`, body["refreshToken"], body["clientSecret"])
		default:
			access := fmt.Sprintf("fresh-access-%d", n)
			f.accepted[access] = true
			f.refreshToken = fmt.Sprintf("fresh-refresh-%d", n)
			fmt.Fprintf(w, `{"accessToken":%q,"tokenType":"Bearer","expiresIn":3600,"refreshToken":%q}`, access, f.refreshToken)
		}
	})
	// The portal's server also answers /token, as one AWS_ENDPOINT_URL
	// for both would; the OIDC server answers only /token.
	mux := http.NewServeMux()
	mux.Handle("/token", oidcH)
	mux.Handle("/", portalH)
	portal, oidc := httptest.NewServer(mux), httptest.NewServer(oidcH)
	t.Cleanup(portal.Close)
	t.Cleanup(oidc.Close)
	f.PortalURL, f.OIDCURL = portal.URL, oidc.URL
	return f
}

// expectRefresh sets the client and refresh token CreateToken accepts.
func (f *fakeSSO) expectRefresh(clientID, clientSecret, refreshToken string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clientID, f.clientSecret, f.refreshToken = clientID, clientSecret, refreshToken
}

func (f *fakeSSO) calls() (portal []url.Values, bearers []string, refreshes []map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.portalCalls...), append([]string(nil), f.bearers...), append([]map[string]string(nil), f.refreshBodies...)
}

// ssoCachePath is where `aws sso login` caches the token of key (the
// sso-session name, or the legacy start URL) under e's HOME.
func (e env) ssoCachePath(key string) string {
	sum := sha1.Sum([]byte(key))
	return filepath.Join(e["HOME"], ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
}

// writeSSOCache writes the token cache of key as `aws sso login` does.
func (e env) writeSSOCache(t *testing.T, key string, fields map[string]any) string {
	p := e.ssoCachePath(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
