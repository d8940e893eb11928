package awscred_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/awscred"
)

const (
	ssoAccount  = "111122223333"
	ssoRole     = "Admin"
	ssoStartURL = "https://corp.awsapps.com/start"
	ssoOldURL   = "https://old.awsapps.com/start"

	// ssoConfig has a profile of each form, and a role profile whose
	// source is the SSO one.
	ssoConfig = `[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Admin
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile old]
sso_start_url = https://old.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 111122223333
sso_role_name = Admin

[profile deploy]
role_arn = arn:aws:iam::444455556666:role/deploy
source_profile = dev
role_session_name = deploy-1
region = us-east-1
`
)

// ssoEnv is an environment with ssoConfig and the SSO endpoints pointed
// at f.
func ssoEnv(t *testing.T, f *fakeSSO, profile string) env {
	e := newEnv(t)
	e.write(t, "config", ssoConfig)
	e["AWS_PROFILE"] = profile
	e["AWS_ENDPOINT_URL_SSO"], e["AWS_ENDPOINT_URL_SSO_OIDC"] = f.PortalURL, f.OIDCURL
	return e
}

// sessionCache is the cache `aws sso login --sso-session corp` writes,
// with the access token expiring at exp.
func sessionCache(exp time.Time) map[string]any {
	return map[string]any{
		"startUrl": ssoStartURL, "region": "eu-west-1",
		"accessToken": "ACCESS-cached", "expiresAt": exp.UTC().Format(time.RFC3339),
		"clientId": "client-1", "clientSecret": "CLIENTSECRET-1",
		"registrationExpiresAt": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339),
		"refreshToken":          "REFRESH-1",
	}
}

// TestSSOSessionProfile: the sso_session form with a valid cached token
// goes to the portal with it, and nowhere else.
func TestSSOSessionProfile(t *testing.T) {
	f := newSSO(t, ssoAccount, ssoRole, "ACCESS-cached")
	e := ssoEnv(t, f, "dev")
	e.writeSSOCache(t, "corp", sessionCache(time.Now().Add(time.Hour)))
	creds, c := retrieve(t, e)
	require.Equal(t, "ASIASSO1", creds.AccessKeyID)
	require.Equal(t, "secret-SSO1", creds.SecretAccessKey)
	require.Equal(t, "token-SSO1", creds.SessionToken)
	require.Equal(t, ssoAccount, creds.AccountID)
	require.True(t, creds.Expires.Equal(time.UnixMilli(f.expiration)), "expiration is ms since the epoch")
	require.Equal(t, "sso profile dev", creds.Source)

	portal, bearers, refreshes := f.calls()
	require.Equal(t, []url.Values{{"account_id": {ssoAccount}, "role_name": {ssoRole}}}, portal)
	require.Equal(t, []string{"ACCESS-cached"}, bearers)
	require.Empty(t, refreshes, "a valid token is not refreshed")

	used, ok := c.Report().Used()
	require.True(t, ok)
	require.Equal(t, "profile dev", used.Source)
	require.Equal(t, "IAM Identity Center (SSO) session corp, account 111122223333, role Admin", used.Reason)

	_, err := c.Retrieve(context.Background())
	require.NoError(t, err)
	portal, _, _ = f.calls()
	require.Len(t, portal, 1, "cached until near expiry")
}

// TestSSOLegacyProfile: sso_start_url in the profile; the cache is named
// by the start URL's hash.
func TestSSOLegacyProfile(t *testing.T) {
	f := newSSO(t, ssoAccount, ssoRole, "ACCESS-old")
	e := ssoEnv(t, f, "old")
	e.writeSSOCache(t, ssoOldURL, map[string]any{"startUrl": ssoOldURL, "region": "eu-west-1", "accessToken": "ACCESS-old", "expiresAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	creds, c := retrieve(t, e)
	require.Equal(t, "ASIASSO1", creds.AccessKeyID)
	_, bearers, _ := f.calls()
	require.Equal(t, []string{"ACCESS-old"}, bearers)
	used, _ := c.Report().Used()
	require.Equal(t, "IAM Identity Center (SSO) start URL "+ssoOldURL+", account 111122223333, role Admin", used.Reason)
}

// TestSSORefresh: a token expired, or about to, is refreshed with SSO
// OIDC, and the cache file is replaced (not rewritten in place), mode
// 0600, keeping the fields it does not change.
func TestSSORefresh(t *testing.T) {
	for _, tc := range []struct {
		name string
		exp  time.Duration
	}{{"expired", -time.Hour}, {"expiring in two minutes", 2 * time.Minute}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSSO(t, ssoAccount, ssoRole)
			f.expectRefresh("client-1", "CLIENTSECRET-1", "REFRESH-1")
			e := ssoEnv(t, f, "dev")
			fields := sessionCache(time.Now().Add(tc.exp))
			fields["someFutureField"] = "kept"
			path := e.writeSSOCache(t, "corp", fields)
			old, err := os.Open(path)
			require.NoError(t, err)
			defer old.Close()
			oldInfo, err := old.Stat()
			require.NoError(t, err)

			creds, _ := retrieve(t, e)
			require.Equal(t, "ASIASSO1", creds.AccessKeyID)
			_, bearers, refreshes := f.calls()
			require.Equal(t, []map[string]string{{"grantType": "refresh_token", "clientId": "client-1", "clientSecret": "CLIENTSECRET-1", "refreshToken": "REFRESH-1"}}, refreshes)
			require.Equal(t, []string{"fresh-access-1"}, bearers, "the portal got the new token")

			// The cache holds the new token and every other field.
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			var got map[string]string
			require.NoError(t, json.Unmarshal(data, &got))
			exp, err := time.Parse(time.RFC3339, got["expiresAt"])
			require.NoError(t, err)
			require.WithinDuration(t, time.Now().Add(time.Hour), exp, time.Minute)
			want := map[string]string{}
			for k, v := range fields {
				want[k] = v.(string)
			}
			want["accessToken"], want["refreshToken"], want["expiresAt"] = "fresh-access-1", "fresh-refresh-1", got["expiresAt"]
			require.Equal(t, want, got)

			// Replaced atomically: a new file renamed over the old, whose
			// reader still sees the old content whole; no temp file left.
			newInfo, err := os.Stat(path)
			require.NoError(t, err)
			require.False(t, os.SameFile(oldInfo, newInfo), "a new file, renamed into place")
			require.Equal(t, fs.FileMode(0o600), newInfo.Mode().Perm())
			oldData, err := io.ReadAll(old)
			require.NoError(t, err)
			require.Contains(t, string(oldData), "ACCESS-cached", "the old file was not truncated in place")
			entries, err := os.ReadDir(filepath.Dir(path))
			require.NoError(t, err)
			require.Len(t, entries, 1, "no temporary file left")

			// A second chain reads the refreshed token and refreshes nothing.
			_, _ = retrieve(t, e)
			_, bearers, refreshes = f.calls()
			require.Len(t, refreshes, 1)
			require.Equal(t, "fresh-access-1", bearers[len(bearers)-1])
		})
	}
}

// TestSSOLoginRequired: every way the cached token can be unusable ends
// in the chain's failure report with ErrSSOLoginRequired and the command
// to run; nothing reaches the portal.
func TestSSOLoginRequired(t *testing.T) {
	expired := time.Now().Add(-time.Minute)
	for _, tc := range []struct {
		name    string
		profile string
		cache   func(e env) // nil: no cache file
		refresh bool        // OIDC would accept REFRESH-1
		wantErr string
	}{
		{name: "missing cache", profile: "dev", wantErr: "no cached SSO token"},
		{name: "missing legacy cache", profile: "old", wantErr: "no cached SSO token"},
		{name: "expired without refresh token", profile: "dev", wantErr: "holds no refresh token",
			cache: func(e env) {
				c := sessionCache(expired)
				delete(c, "refreshToken")
				e.writeSSOCache(t, "corp", c)
			}},
		{name: "registration expired", profile: "dev", refresh: true, wantErr: "client registration expired",
			cache: func(e env) {
				c := sessionCache(expired)
				c["registrationExpiresAt"] = expired.UTC().Format(time.RFC3339)
				e.writeSSOCache(t, "corp", c)
			}},
		{name: "legacy form is never refreshed", profile: "old", refresh: true, wantErr: "legacy form",
			cache: func(e env) {
				c := sessionCache(expired)
				c["startUrl"] = ssoOldURL
				e.writeSSOCache(t, ssoOldURL, c)
			}},
		{name: "refresh refused", profile: "dev", wantErr: "SSO OIDC CreateToken answered status 400, code invalid_grant",
			cache: func(e env) { e.writeSSOCache(t, "corp", sessionCache(expired)) }},
		{name: "not JSON", profile: "dev", wantErr: "is not JSON",
			cache: func(e env) {
				p := e.writeSSOCache(t, "corp", nil)
				require.NoError(t, os.WriteFile(p, []byte(`{"accessToken":"ACCESS-cached",`), 0o600))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSSO(t, ssoAccount, ssoRole, "ACCESS-cached")
			if tc.refresh {
				f.expectRefresh("client-1", "CLIENTSECRET-1", "REFRESH-1")
			}
			e := ssoEnv(t, f, tc.profile)
			if tc.cache != nil {
				tc.cache(e)
			}
			c, err := chain(t, e)
			require.NoError(t, err, "configured: the chain picks the profile")
			_, err = c.Retrieve(context.Background())
			require.ErrorIs(t, err, awscred.ErrSSOLoginRequired)
			var nce *auth.NoCredentialsError
			require.ErrorAs(t, err, &nce)
			require.ErrorContains(t, err, "profile "+tc.profile+": failed")
			require.ErrorContains(t, err, tc.wantErr)
			require.ErrorContains(t, err, "run `aws sso login --profile "+tc.profile+"`")
			require.Equal(t, tc.cache == nil, errors.Is(err, fs.ErrNotExist))
			require.Contains(t, c.Report().String(), "aws sso login --profile "+tc.profile)
			portal, _, _ := f.calls()
			require.Empty(t, portal)
			requireNoSSOSecret(t, err.Error(), c.Report().String())
		})
	}
}

// requireNoSSOSecret checks that no token, client secret or key of the
// SSO tests appears in any of ss.
func requireNoSSOSecret(t *testing.T, ss ...string) {
	t.Helper()
	for _, s := range ss {
		for _, secret := range []string{"ACCESS-", "fresh-access", "REFRESH-", "fresh-refresh", "CLIENTSECRET", "secret-SSO", "token-SSO"} {
			require.NotContains(t, s, secret)
		}
	}
}

// TestSSOErrorsHoldNoSecret: refusals whose bodies echo the token, the
// refresh token and the client secret never put them in errors.
func TestSSOErrorsHoldNoSecret(t *testing.T) {
	t.Run("portal refuses the account", func(t *testing.T) {
		f := newSSO(t, "999999999999", ssoRole, "ACCESS-cached")
		e := ssoEnv(t, f, "dev")
		e.writeSSOCache(t, "corp", sessionCache(time.Now().Add(time.Hour)))
		c, err := chain(t, e)
		require.NoError(t, err)
		_, err = c.Retrieve(context.Background())
		require.ErrorContains(t, err, "SSO GetRoleCredentials answered status 403, code ForbiddenException")
		require.NotErrorIs(t, err, awscred.ErrSSOLoginRequired)
		requireNoSSOSecret(t, err.Error(), c.Report().String())
	})
	t.Run("portal refuses the token", func(t *testing.T) {
		f := newSSO(t, ssoAccount, ssoRole)
		e := ssoEnv(t, f, "dev")
		e.writeSSOCache(t, "corp", sessionCache(time.Now().Add(time.Hour)))
		c, err := chain(t, e)
		require.NoError(t, err)
		_, err = c.Retrieve(context.Background())
		require.ErrorIs(t, err, awscred.ErrSSOLoginRequired)
		require.ErrorContains(t, err, "status 401, code UnauthorizedException")
		requireNoSSOSecret(t, err.Error(), c.Report().String())
	})
	t.Run("refresh refused", func(t *testing.T) {
		f := newSSO(t, ssoAccount, ssoRole)
		e := ssoEnv(t, f, "dev")
		e.writeSSOCache(t, "corp", sessionCache(time.Now().Add(-time.Hour)))
		c, err := chain(t, e)
		require.NoError(t, err)
		_, err = c.Retrieve(context.Background())
		require.ErrorIs(t, err, awscred.ErrSSOLoginRequired)
		_, _, refreshes := f.calls()
		require.Len(t, refreshes, 1, "it was tried")
		requireNoSSOSecret(t, err.Error(), c.Report().String())
	})
}

// TestSSOEndpoints: AWS_ENDPOINT_URL_SSO / _SSO_OIDC, then the profile's
// [services] sso / sso_oidc, then AWS_ENDPOINT_URL; http only with
// AllowHTTP.
func TestSSOEndpoints(t *testing.T) {
	viaEnv := newSSO(t, ssoAccount, ssoRole)
	viaServices := newSSO(t, ssoAccount, ssoRole)
	viaGlobal := newSSO(t, ssoAccount, ssoRole)
	for _, f := range []*fakeSSO{viaEnv, viaServices, viaGlobal} {
		f.expectRefresh("client-1", "CLIENTSECRET-1", "REFRESH-1")
	}
	services := "\n[profile dev]\nservices = local\n[services local]\nsso =\n  endpoint_url = " + viaServices.PortalURL + "\nsso_oidc =\n  endpoint_url = " + viaServices.OIDCURL + "\n"
	for _, tc := range []struct {
		name     string
		vars     map[string]string
		services bool
		want     *fakeSSO
	}{
		{name: "service variables", vars: map[string]string{"AWS_ENDPOINT_URL_SSO": viaEnv.PortalURL, "AWS_ENDPOINT_URL_SSO_OIDC": viaEnv.OIDCURL, "AWS_ENDPOINT_URL": viaGlobal.PortalURL},
			services: true, want: viaEnv},
		{name: "services section", vars: map[string]string{"AWS_ENDPOINT_URL": viaGlobal.PortalURL}, services: true, want: viaServices},
		{name: "AWS_ENDPOINT_URL", vars: map[string]string{"AWS_ENDPOINT_URL": viaGlobal.PortalURL}, want: viaGlobal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			cfg := ssoConfig
			if tc.services {
				cfg += services
			}
			e.write(t, "config", cfg)
			e["AWS_PROFILE"] = "dev"
			for k, v := range tc.vars {
				e[k] = v
			}
			e.writeSSOCache(t, "corp", sessionCache(time.Now().Add(-time.Hour)))
			before := map[*fakeSSO]int{}
			for _, f := range []*fakeSSO{viaEnv, viaServices, viaGlobal} {
				p, _, r := f.calls()
				before[f] = len(p) + len(r)
			}
			_, _ = retrieve(t, e)
			for _, f := range []*fakeSSO{viaEnv, viaServices, viaGlobal} {
				p, _, r := f.calls()
				if f == tc.want {
					require.Equal(t, before[f]+2, len(p)+len(r), "one refresh, one portal call")
				} else {
					require.Equal(t, before[f], len(p)+len(r))
				}
			}
		})
	}
	t.Run("http needs AllowHTTP", func(t *testing.T) {
		e := ssoEnv(t, viaEnv, "dev")
		_, err := awscred.NewChain(&awscred.Options{Getenv: e.get})
		require.ErrorContains(t, err, "SSO endpoint "+viaEnv.PortalURL+" is http")
	})
	t.Run("default endpoints are the SSO region's", func(t *testing.T) {
		e := newEnv(t)
		e.write(t, "config", ssoConfig)
		e["AWS_PROFILE"] = "dev"
		c, err := awscred.NewChain(&awscred.Options{Getenv: e.get})
		require.NoError(t, err, "https: no AllowHTTP needed")
		_ = c // no request: the default endpoints are not loopback
	})
}

// TestSSOAsSourceProfile: an SSO profile is the source of a role
// profile; AssumeRole is signed with the portal's credentials.
func TestSSOAsSourceProfile(t *testing.T) {
	f := newSSO(t, ssoAccount, ssoRole, "ACCESS-cached")
	sts := newSTS(t)
	e := ssoEnv(t, f, "deploy")
	e["AWS_ENDPOINT_URL_STS"] = sts.URL
	e.writeSSOCache(t, "corp", sessionCache(time.Now().Add(time.Hour)))
	creds, c := retrieve(t, e)
	require.Equal(t, "ASIA1", creds.AccessKeyID, "the role's credentials")
	calls := sts.recorded()
	require.Len(t, calls, 1)
	require.Equal(t, "ASIASSO1", calls[0].SignedBy, "signed with the SSO credentials, and the signature checks out")
	require.Equal(t, "arn:aws:iam::444455556666:role/deploy", calls[0].Form["RoleArn"])
	used, _ := c.Report().Used()
	require.Equal(t, "profile deploy", used.Source)
	require.Equal(t, "IAM Identity Center (SSO) session corp, account 111122223333, role Admin, then assume role arn:aws:iam::444455556666:role/deploy", used.Reason)
}

// TestSSOProfileErrors: settings the SDKs refuse are errors before any
// request.
func TestSSOProfileErrors(t *testing.T) {
	for _, tc := range []struct{ name, config, wantErr string }{
		{"no sso-session section", "[profile p]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = r\n", "no [sso-session nope] section"},
		{"session without region", "[profile p]\nsso_session = s\nsso_account_id = 1\nsso_role_name = r\n[sso-session s]\nsso_start_url = https://x/start\n", "does not set sso_region (in [sso-session s])"},
		{"region mismatch", "[profile p]\nsso_session = s\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = r\n[sso-session s]\nsso_start_url = https://x/start\nsso_region = eu-west-1\n", "must match"},
		{"legacy without role", "[profile p]\nsso_start_url = https://x/start\nsso_region = eu-west-1\nsso_account_id = 1\n", "does not set sso_role_name"},
		{"only an account", "[profile p]\nsso_account_id = 1\n", "does not set sso_start_url, sso_region, sso_role_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.write(t, "config", tc.config)
			e["AWS_PROFILE"] = "p"
			_, err := chain(t, e)
			require.ErrorContains(t, err, tc.wantErr)
			require.True(t, strings.HasPrefix(err.Error(), `aws: profile "p"`), err.Error())
		})
	}
}
