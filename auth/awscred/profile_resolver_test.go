package awscred

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const testRole = "arn:aws:iam::1:role/r"

// profileTestResolver returns a resolver over profiles whose STS endpoint
// is a loopback address: building a role source sends nothing, and these
// tests never fetch through one.
func profileTestResolver(profiles map[string]profile, env map[string]string) *resolver {
	return &resolver{
		getenv:    func(k string) string { return env[k] },
		now:       func() time.Time { return time.Unix(1700000000, 0) },
		http:      http.DefaultClient,
		files:     &sharedFiles{profiles: profiles},
		cfg:       Config{Region: "us-east-1", STSEndpoint: "http://127.0.0.1:9"},
		allowHTTP: true,
	}
}

func keys(p profile) profile {
	p["aws_access_key_id"], p["aws_secret_access_key"] = "AKIABASE", "base-secret"
	return p
}

func TestCheckProfile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       profile
		wantErr string
	}{
		{name: "keys", p: keys(profile{})},
		{name: "role with a source profile", p: profile{"role_arn": testRole, "source_profile": "b"}},
		{name: "two sources", p: profile{"source_profile": "b", "credential_process": "x"}, wantErr: "more than one of"},
		{name: "credential_source and web identity", p: profile{"credential_source": "Environment", "web_identity_token_file": "/t"}, wantErr: "more than one of"},
		{name: "only the key ID", p: profile{"aws_access_key_id": "AKIA"}, wantErr: "partial credentials"},
		{name: "only the secret", p: profile{"aws_secret_access_key": "s"}, wantErr: "partial credentials"},
		{name: "role with MFA", p: profile{"role_arn": testRole, "mfa_serial": "arn:aws:iam::1:mfa/me"}},
		{name: "MFA without a role", p: keys(profile{"mfa_serial": "arn:aws:iam::1:mfa/me"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkProfile("p", tc.p)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestRoleOf(t *testing.T) {
	now := func() time.Time { return time.Unix(0, 42) }
	for _, tc := range []struct {
		name    string
		p       profile
		want    assumeRole
		wantErr string
	}{
		{name: "defaults", p: profile{"role_arn": testRole},
			want: assumeRole{arn: testRole, sessionName: "anyblob-42", duration: 900 * time.Second}},
		{name: "all set", p: profile{"role_arn": testRole, "role_session_name": "me", "external_id": "ext", "duration_seconds": "3600"},
			want: assumeRole{arn: testRole, sessionName: "me", externalID: "ext", duration: time.Hour}},
		{name: "longest", p: profile{"role_arn": testRole, "role_session_name": "me", "duration_seconds": "43200"},
			want: assumeRole{arn: testRole, sessionName: "me", duration: 12 * time.Hour}},
		{name: "too short", p: profile{"role_arn": testRole, "duration_seconds": "899"}, wantErr: "duration_seconds"},
		{name: "too long", p: profile{"role_arn": testRole, "duration_seconds": "43201"}, wantErr: "duration_seconds"},
		{name: "not a number", p: profile{"role_arn": testRole, "duration_seconds": "1h"}, wantErr: "duration_seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := roleOf("p", tc.p, now)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestProfileResolverSource(t *testing.T) {
	for _, tc := range []struct {
		name     string
		profiles map[string]profile
		env      map[string]string
		want     string // what; "" with no error: no credentials
		wantErr  string
	}{
		{name: "static keys", profiles: map[string]profile{"p": keys(profile{})}, want: "static keys"},
		{name: "no credentials", profiles: map[string]profile{"p": {"region": "eu-west-1"}}},
		{name: "missing", profiles: map[string]profile{}, wantErr: `source_profile "p" does not exist`},
		{name: "keys then role", profiles: map[string]profile{"p": keys(profile{"role_arn": testRole})},
			want: "static keys, then assume role " + testRole},
		{name: "source profile then role", profiles: map[string]profile{"p": {"role_arn": testRole, "source_profile": "b"}, "b": keys(profile{})},
			want: "static keys, then assume role " + testRole},
		{name: "two hops", profiles: map[string]profile{
			"p": {"role_arn": testRole, "source_profile": "q"},
			"q": {"role_arn": "arn:aws:iam::1:role/q", "source_profile": "b"},
			"b": keys(profile{})},
			want: "static keys, then assume role arn:aws:iam::1:role/q, then assume role " + testRole},
		{name: "self reference uses its own keys", profiles: map[string]profile{"p": keys(profile{"role_arn": testRole, "source_profile": "p"})},
			want: "static keys, then assume role " + testRole},
		{name: "a loop", profiles: map[string]profile{"p": {"role_arn": testRole, "source_profile": "q"}, "q": {"role_arn": testRole, "source_profile": "p"}},
			wantErr: `source_profile "p" of profile "q" names no credentials`},
		{name: "missing source profile", profiles: map[string]profile{"p": {"role_arn": testRole, "source_profile": "b"}},
			wantErr: `source_profile "b" does not exist`},
		{name: "source profile without a role", profiles: map[string]profile{"p": {"source_profile": "b"}, "b": keys(profile{})},
			wantErr: "source_profile without role_arn"},
		{name: "credential_source without a role", profiles: map[string]profile{"p": {"credential_source": "Environment"}},
			wantErr: "credential_source without role_arn"},
		{name: "credential_source Environment", profiles: map[string]profile{"p": {"role_arn": testRole, "credential_source": "Environment"}},
			env:  map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s"},
			want: "credential_source Environment, then assume role " + testRole},
		{name: "credential_source Environment without keys", profiles: map[string]profile{"p": {"role_arn": testRole, "credential_source": "Environment"}},
			wantErr: "the environment holds no keys"},
		{name: "credential_source EcsContainer without an endpoint", profiles: map[string]profile{"p": {"role_arn": testRole, "credential_source": "EcsContainer"}},
			wantErr: "no container endpoint is set"},
		{name: "web identity", profiles: map[string]profile{"p": {"role_arn": testRole, "web_identity_token_file": "/tok"}},
			want: "web_identity_token_file, then assume role " + testRole + " with web identity"},
		{name: "web identity without a role", profiles: map[string]profile{"p": {"web_identity_token_file": "/tok"}},
			wantErr: "web_identity_token_file without role_arn"},
		{name: "credential_process", profiles: map[string]profile{"p": {"credential_process": "true"}}, want: "credential_process"},
		{name: "credential_process then role", profiles: map[string]profile{"p": {"credential_process": "true", "role_arn": testRole}},
			want: "credential_process, then assume role " + testRole},
		{name: "SSO without its sso-session section", profiles: map[string]profile{"p": {"sso_session": "corp", "sso_account_id": "1", "sso_role_name": "r"}},
			wantErr: "no [sso-session corp] section"},
		{name: "legacy SSO", profiles: map[string]profile{"p": {"sso_start_url": "https://x/start", "sso_region": "eu-west-1", "sso_account_id": "1", "sso_role_name": "r"}},
			env: map[string]string{"HOME": "/nonexistent"}, want: "IAM Identity Center (SSO) start URL https://x/start, account 1, role r"},
		{name: "SSO without HOME", profiles: map[string]profile{"p": {"sso_start_url": "https://x/start", "sso_region": "eu-west-1", "sso_account_id": "1", "sso_role_name": "r"}},
			wantErr: "HOME is not set"},
		{name: "SSO beats credential_process", profiles: map[string]profile{"p": {"credential_process": "true", "sso_start_url": "https://x/start", "sso_region": "eu-west-1", "sso_account_id": "1", "sso_role_name": "r"}},
			env: map[string]string{"HOME": "/nonexistent"}, want: "IAM Identity Center (SSO) start URL https://x/start, account 1, role r"},
		{name: "MFA without a code function", profiles: map[string]profile{"p": keys(profile{"role_arn": testRole, "mfa_serial": "arn:aws:iam::1:mfa/me"})},
			wantErr: "set awscred.Options.MFATokenCode"},
		{name: "bad duration", profiles: map[string]profile{"p": keys(profile{"role_arn": testRole, "duration_seconds": "60"})}, wantErr: "duration_seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := profileTestResolver(tc.profiles, tc.env)
			src, what, err := newProfileResolver(r).source("p")
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.Nil(t, src)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, what)
			require.Equal(t, tc.want == "", src == nil)
		})
	}
}

func TestProfileResolverStaticKeys(t *testing.T) {
	r := profileTestResolver(map[string]profile{"p": keys(profile{"aws_session_token": "tok", "aws_account_id": "123456789012"})}, nil)
	src, _, err := newProfileResolver(r).source("p")
	require.NoError(t, err)
	c, err := src(context.Background())
	require.NoError(t, err)
	require.Equal(t, "AKIABASE", c.AccessKeyID)
	require.Equal(t, "base-secret", c.SecretAccessKey)
	require.Equal(t, "tok", c.SessionToken)
	require.Equal(t, "123456789012", c.AccountID)
	require.Equal(t, "profile p", c.Source)
}

// TestProfileResolverNeedsSTS checks that a role profile without a region
// or an STS endpoint fails when its source is built, before any request.
func TestProfileResolverNeedsSTS(t *testing.T) {
	r := profileTestResolver(map[string]profile{"p": keys(profile{"role_arn": testRole, "duration_seconds": "60"})}, nil)
	r.cfg = Config{}
	_, _, err := newProfileResolver(r).source("p")
	require.ErrorContains(t, err, "missing region for STS", "the STS check comes before the role's settings")
}
