package awscred_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", 400)
			return
		}
		c := stsCall{Action: r.PostForm.Get("Action"), Form: map[string]string{}, Signed: strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")}
		for k := range r.PostForm {
			c.Form[k] = r.PostForm.Get(k)
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
