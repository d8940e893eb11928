package awscred_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/awscred"
)

// LoadConfig resolves region and endpoints without needing credentials.
func TestLoadConfig(t *testing.T) {
	const config = "[default]\nregion = eu-west-1\n[profile dev]\nregion = ap-south-1\nendpoint_url = http://127.0.0.1:9000\n"
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		want    awscred.Config
		wantErr string
	}{
		{name: "default profile", want: awscred.Config{Profile: "default", Region: "eu-west-1"}},
		{name: "env region beats the profile", vars: map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ca-central-1"},
			want: awscred.Config{Profile: "default", Region: "us-west-2"}},
		{name: "AWS_DEFAULT_REGION", vars: map[string]string{"AWS_DEFAULT_REGION": "ca-central-1"},
			want: awscred.Config{Profile: "default", Region: "ca-central-1"}},
		{name: "named profile", vars: map[string]string{"AWS_PROFILE": "dev"},
			want: awscred.Config{Profile: "dev", Region: "ap-south-1", S3Endpoint: "http://127.0.0.1:9000", STSEndpoint: "http://127.0.0.1:9000"}},
		{name: "missing profile", vars: map[string]string{"AWS_PROFILE": "nope"}, wantErr: `profile "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.write(t, "config", config)
			for k, v := range tc.vars {
				e[k] = v
			}
			cfg, err := awscred.LoadConfig(&awscred.Options{Getenv: e.get})
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, cfg)
			// No credentials anywhere: the chain fails, the config does not.
			_, err = chain(t, e)
			var nce *auth.NoCredentialsError
			require.ErrorAs(t, err, &nce)
		})
	}
}

// A chosen source that fails makes Retrieve return the whole report, with
// that source marked failed; the error and the report never quote the
// endpoint's body.
func TestRetrieveFailureIsReported(t *testing.T) {
	const leaked = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYLEAKED"
	t.Run("imds", func(t *testing.T) {
		e := newEnv(t)
		imds := newIMDS(t, 400, "")
		delete(e, "AWS_EC2_METADATA_DISABLED")
		e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.URL
		c, err := chain(t, e)
		require.NoError(t, err)
		_, err = c.Retrieve(context.Background())
		var nce *auth.NoCredentialsError
		require.ErrorAs(t, err, &nce)
		require.Contains(t, err.Error(), "env: skipped (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set)")
		require.Contains(t, err.Error(), "imds: failed (EC2 instance metadata): aws imds: token PUT answered 400")
		_, ok := c.Report().Used()
		require.False(t, ok, "the report shows the failure")
		require.Contains(t, c.Report().String(), "imds: failed")
	})
	t.Run("container body not quoted", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"code":"AccessDenied","message":"your secret is %s"}`, leaked)
		}))
		defer srv.Close()
		e := newEnv(t)
		e["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = srv.URL + "/creds"
		c, err := chain(t, e)
		require.NoError(t, err)
		_, err = c.Retrieve(context.Background())
		require.ErrorContains(t, err, "container: failed")
		require.ErrorContains(t, err, "status 403, code AccessDenied")
		require.NotContains(t, err.Error(), leaked)
		require.NotContains(t, c.Report().String(), leaked)
	})
	t.Run("a canceled caller gets ctx's error", func(t *testing.T) {
		e := newEnv(t)
		e["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:1/creds"
		c, err := chain(t, e)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = c.Retrieve(ctx)
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("errors.Is reaches the cause", func(t *testing.T) {
		e := newEnv(t)
		e["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:1/creds"
		e["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = filepath.Join(t.TempDir(), "absent")
		c, err := chain(t, e)
		require.NoError(t, err)
		_, err = c.Retrieve(context.Background())
		require.True(t, errors.Is(err, fs.ErrNotExist), "got %v", err)
	})
}

// A profile's web_identity_token_file, with role_arn and role_session_name.
func TestProfileWebIdentity(t *testing.T) {
	for _, tc := range []struct {
		name, profile, wantErr string
	}{
		{name: "ok", profile: "role_arn = arn:aws:iam::1:role/p\nrole_session_name = prof-sess\n"},
		{name: "no role_arn", profile: "role_session_name = prof-sess\n", wantErr: "web_identity_token_file without role_arn"},
		{name: "with credential_process", profile: "role_arn = arn:aws:iam::1:role/p\ncredential_process = true\n", wantErr: "more than one of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			sts := newSTS(t)
			tokenFile := filepath.Join(t.TempDir(), "token")
			require.NoError(t, os.WriteFile(tokenFile, []byte("jwt-profile"), 0o600))
			e.write(t, "config", "[profile wi]\nregion = eu-north-1\nweb_identity_token_file = "+tokenFile+"\n"+tc.profile)
			e["AWS_PROFILE"], e["AWS_ENDPOINT_URL_STS"] = "wi", sts.URL
			c, err := chain(t, e)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.Empty(t, sts.recorded())
				return
			}
			require.NoError(t, err)
			creds, err := c.Retrieve(context.Background())
			require.NoError(t, err)
			require.Equal(t, "ASIA1", creds.AccessKeyID)
			require.WithinDuration(t, time.Now().Add(time.Hour), creds.Expires, time.Minute)
			calls := sts.recorded()
			require.Len(t, calls, 1)
			require.Equal(t, "AssumeRoleWithWebIdentity", calls[0].Action)
			require.False(t, calls[0].Signed)
			require.Equal(t, "jwt-profile", calls[0].Form["WebIdentityToken"])
			require.Equal(t, "prof-sess", calls[0].Form["RoleSessionName"])
			require.Equal(t, "arn:aws:iam::1:role/p", calls[0].Form["RoleArn"])
		})
	}
}

// A credential_process that fails says how (its exit status), never what it
// printed.
func TestCredentialProcessFailure(t *testing.T) {
	for _, tc := range []struct {
		name, script, want string
	}{
		{name: "exit 3", script: "echo '{\"Version\":1,\"SecretAccessKey\":\"TOPSECRETPROC\"}'; echo TOPSECRETPROC >&2; exit 3", want: "exit status 3"},
		{name: "missing keys", script: "echo '{\"Version\":1,\"SessionToken\":\"TOPSECRETPROC\"}'", want: "no AccessKeyId or SecretAccessKey"},
		{name: "bad expiration", script: "echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"TOPSECRETPROC\",\"Expiration\":\"soon\"}'", want: "bad Expiration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "proc.sh")
			require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+tc.script+"\n"), 0o700))
			e := newEnv(t)
			e.write(t, "config", "[default]\ncredential_process = "+p+"\n")
			c, err := chain(t, e)
			require.NoError(t, err)
			_, err = c.Retrieve(context.Background())
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "TOPSECRETPROC")
			require.NotContains(t, c.Report().String(), "TOPSECRETPROC")
		})
	}
}

// STS over http needs AllowHTTP: refused before any request otherwise.
func TestSTSOverHTTPNeedsAllowHTTP(t *testing.T) {
	sts := newSTS(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("jwt"), 0o600))
	for _, tc := range []struct {
		name     string
		setup    func(e env)
		endpoint string
		allow    bool
		wantErr  string
	}{
		{name: "web identity refused", endpoint: sts.URL, wantErr: "is http",
			setup: func(e env) { e["AWS_WEB_IDENTITY_TOKEN_FILE"], e["AWS_ROLE_ARN"] = tokenFile, "arn:aws:iam::1:role/w" }},
		{name: "role profile refused", endpoint: sts.URL, wantErr: "is http",
			setup: func(e env) {
				e.write(t, "config", "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n[profile base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n")
			}},
		{name: "not a URL", endpoint: "sts.local:443", allow: true, wantErr: "not an http(s) URL",
			setup: func(e env) { e["AWS_WEB_IDENTITY_TOKEN_FILE"], e["AWS_ROLE_ARN"] = tokenFile, "arn:aws:iam::1:role/w" }},
		{name: "allowed", endpoint: sts.URL, allow: true,
			setup: func(e env) { e["AWS_WEB_IDENTITY_TOKEN_FILE"], e["AWS_ROLE_ARN"] = tokenFile, "arn:aws:iam::1:role/w" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(sts.recorded())
			e := newEnv(t)
			e["AWS_REGION"], e["AWS_ENDPOINT_URL_STS"] = "us-east-1", tc.endpoint
			tc.setup(e)
			c, err := awscred.NewChain(&awscred.Options{Getenv: e.get, AllowHTTP: tc.allow})
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.Len(t, sts.recorded(), before, "no request")
				return
			}
			require.NoError(t, err)
			_, err = c.Retrieve(context.Background())
			require.NoError(t, err)
			require.Len(t, sts.recorded(), before+1)
		})
	}
	_, err := awscred.AssumeRole(nil, awscred.AssumeRoleOptions{RoleARN: "arn:aws:iam::1:role/r", Endpoint: sts.URL})
	require.ErrorContains(t, err, "is http")
}
