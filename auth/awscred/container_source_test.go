package awscred

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// The hosts below are IP literals (or https, never resolved), so no test
// looks anything up nor sends a request off the loopback.
func TestContainerTarget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		want     string // "" means none
		wantDial string
		wantErr  string
	}{
		{name: "neither set"},
		{name: "relative", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x"},
			want: "http://169.254.170.2/v2/credentials/x", wantDial: "169.254.170.2:80"},
		{name: "relative beats full", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/r", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/f"},
			want: "http://169.254.170.2/r", wantDial: "169.254.170.2:80"},
		{name: "relative that is no path", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "%zz"}, wantErr: "not a path"},
		{name: "https to any host, not resolved", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example.com/v1"},
			want: "https://creds.example.com/v1"},
		{name: "http to loopback", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:8080/creds"},
			want: "http://127.0.0.1:8080/creds", wantDial: "127.0.0.1:8080"},
		{name: "http to IPv6 loopback, default port", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://[::1]/creds"},
			want: "http://[::1]/creds", wantDial: "[::1]:80"},
		{name: "http to the EKS host", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials"},
			want: "http://169.254.170.23/v1/credentials", wantDial: "169.254.170.23:80"},
		{name: "http elsewhere", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://192.0.2.10/creds"},
			wantErr: "neither loopback nor a container credentials host"},
		{name: "another scheme", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "ftp://127.0.0.1/creds"}, wantErr: "not an http(s) URL"},
		{name: "no host", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "/creds"}, wantErr: "not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target, dial, err := containerTarget(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			if tc.want == "" {
				require.Nil(t, target)
				return
			}
			require.Equal(t, tc.want, target.String())
			require.Equal(t, tc.wantDial, dial)
		})
	}
}

func TestContainerAuthToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	for _, tc := range []struct {
		name              string
		tokenFile, envVar string
		want, wantErr     string
	}{
		{name: "none"},
		{name: "variable", envVar: "Bearer v", want: "Bearer v"},
		{name: "the file beats the variable", tokenFile: write("a", "Bearer f"), envVar: "Bearer v", want: "Bearer f"},
		{name: "the file is not trimmed", tokenFile: write("b", " f "), want: " f "},
		{name: "a file ending in a newline", tokenFile: write("c", "Bearer f\n"), wantErr: "CR or LF"},
		{name: "a variable with a CR", envVar: "a\rb", wantErr: "CR or LF"},
		{name: "a missing file", tokenFile: filepath.Join(dir, "missing"), envVar: "Bearer v", wantErr: "aws container endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &containerSource{tokenFile: tc.tokenFile, tokenVar: tc.envVar}
			got, err := s.authToken()
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestContainerRetrieve(t *testing.T) {
	const creds = `{"AccessKeyId":"ASIACTR","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z","AccountId":"210987654321"}`
	for _, tc := range []struct {
		name        string
		status      int
		body        string
		token       string
		wantErr     string
		wantHeaders http.Header
	}{
		{name: "credentials", status: 200, body: creds, token: "Bearer x",
			wantHeaders: http.Header{"Accept": {"application/json"}, "Authorization": {"Bearer x"}}},
		{name: "no token, no Authorization", status: 200, body: creds,
			wantHeaders: http.Header{"Accept": {"application/json"}}},
		{name: "error code only, never the message", status: 500, body: `{"code":"Boom","message":"SECRET detail"}`, wantErr: "status 500, code Boom"},
		{name: "a body that is no error JSON", status: 403, body: "SECRET page", wantErr: "status 403, code unknown"},
		{name: "a code that is no word", status: 400, body: `{"code":"a b SECRET"}`, wantErr: "status 400, code unknown"},
		{name: "no redirect followed", status: 302, body: "", wantErr: "status 302"},
		{name: "not credentials JSON", status: 200, body: "SECRET", wantErr: "not credentials JSON"},
		{name: "no keys", status: 200, body: `{"Token":"SECRET"}`, wantErr: "holds no keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got http.Header
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = r.Header.Clone()
				mu.Unlock()
				if tc.status == http.StatusFound {
					http.Redirect(w, r, "/elsewhere", tc.status)
					return
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			// The target's host is never resolved: the client dials the
			// address checked, here the fake's.
			target, err := url.Parse("http://creds.invalid/v1/credentials")
			require.NoError(t, err)
			s := &containerSource{target: target, client: containerClient(srv.Listener.Addr().String()), tokenVar: tc.token}
			c, err := s.retrieve(context.Background())
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.NotContains(t, err.Error(), "SECRET")
				return
			}
			require.NoError(t, err)
			require.Equal(t, "ASIACTR", c.AccessKeyID)
			require.Equal(t, "210987654321", c.AccountID)
			require.Equal(t, "container", c.Source)
			mu.Lock()
			defer mu.Unlock()
			for k, v := range tc.wantHeaders {
				require.Equal(t, v, got[k], k)
			}
			if _, ok := tc.wantHeaders["Authorization"]; !ok {
				require.NotContains(t, got, "Authorization")
			}
		})
	}
}

func TestNewContainer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"AccessKeyId":"ASIACTR","SecretAccessKey":"s"}`)
	}))
	defer srv.Close()
	env := map[string]string{}
	r := &resolver{getenv: func(k string) string { return env[k] }}

	cs, err := r.newContainer()
	require.NoError(t, err)
	require.Nil(t, cs, "no URI set: no source")

	env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = srv.URL + "/creds"
	env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer v"
	cs, err = r.newContainer()
	require.NoError(t, err)
	require.Equal(t, "Bearer v", cs.tokenVar)
	c, err := cs.retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, "ASIACTR", c.AccessKeyID)
}
