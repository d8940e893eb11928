package awscred_test

import (
	"bytes"
	"context"
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
