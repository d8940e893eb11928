package awscred_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/awscred"
	"github.com/anyblob/anyblob/auth/sigv4"
)

func chain(t *testing.T, e env) (*awscred.Chain, error) {
	return awscred.NewChain(&awscred.Options{Getenv: e.get, AllowHTTP: true})
}

func retrieve(t *testing.T, e env) (sigv4.Credentials, *awscred.Chain) {
	t.Helper()
	c, err := chain(t, e)
	require.NoError(t, err)
	creds, err := c.Retrieve(context.Background())
	require.NoError(t, err)
	return creds, c
}

// Case 1.
func TestEnvKeys(t *testing.T) {
	e := newEnv(t)
	e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"], e["AWS_SESSION_TOKEN"] = "AKIAENV", "env-secret", "env-token"
	creds, c := retrieve(t, e)
	require.Equal(t, "AKIAENV", creds.AccessKeyID)
	require.Equal(t, "env-token", creds.SessionToken)
	require.Equal(t, "env", creds.Source)
	require.True(t, creds.Expires.IsZero())
	used, _ := c.Report().Used()
	require.Equal(t, "env", used.Source)
}

// Case 2.
func TestOnlyAccessKeyIDFallsToIMDS(t *testing.T) {
	e := newEnv(t)
	imds := newIMDS(t, 200, time.Now().Add(30*time.Minute).UTC().Format(time.RFC3339))
	e["AWS_ACCESS_KEY_ID"] = "AKIALONELY"
	delete(e, "AWS_EC2_METADATA_DISABLED")
	e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.URL
	creds, c := retrieve(t, e)
	require.Equal(t, "ASIAIMDS", creds.AccessKeyID)
	require.Contains(t, c.Report().String(), "env: skipped (only one of the access key ID and the secret key is set)")
}

// Cases 3 and 4.
func TestEnvKeysAndProfiles(t *testing.T) {
	e := newEnv(t)
	sts := newSTS(t)
	e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"] = "AKIAENV", "env-secret"
	e.write(t, "config", "[profile dev]\nrole_arn = arn:aws:iam::1:role/dev\nsource_profile = dev\naws_access_key_id = AKIADEV\naws_secret_access_key = dev-secret\nregion = us-west-2\n")
	e["AWS_ENDPOINT_URL_STS"] = sts.URL

	e["AWS_PROFILE"] = "nope"
	_, err := chain(t, e)
	require.ErrorContains(t, err, `profile "nope"`)

	e["AWS_PROFILE"] = "dev"
	creds, c := retrieve(t, e)
	require.Equal(t, "AKIAENV", creds.AccessKeyID)
	require.Empty(t, sts.recorded(), "no STS call")
	require.Equal(t, "us-west-2", c.Config().Region, "the profile still gives the region")
}

// Case 5.
func TestCredentialsFileAndConfigRegion(t *testing.T) {
	e := newEnv(t)
	e.write(t, "credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = file-secret\n\n[profile x]\naws_access_key_id = AKIAX\naws_secret_access_key = x-secret\n")
	e.write(t, "config", "[default]\nregion = eu-west-1\n")
	creds, c := retrieve(t, e)
	require.Equal(t, "AKIAFILE", creds.AccessKeyID)
	require.Equal(t, "eu-west-1", c.Config().Region)

	e["AWS_PROFILE"] = "x"
	_, err := chain(t, e)
	require.ErrorContains(t, err, `profile "x"`, "[profile x] in the credentials file is ignored")
}

// Cases 6 and 7.
func TestRoleChains(t *testing.T) {
	e := newEnv(t)
	sts := newSTS(t)
	e["AWS_ENDPOINT_URL_STS"] = sts.URL
	e.write(t, "credentials", "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n")
	e.write(t, "config", `[profile role]
role_arn = arn:aws:iam::123456789012:role/inner
source_profile = base
duration_seconds = 3600
external_id = ext-1
role_session_name = sess-1
region = us-east-1

[profile outer]
role_arn = arn:aws:iam::123456789012:role/outer
source_profile = role
region = us-east-1
`)
	e["AWS_PROFILE"] = "role"
	creds, _ := retrieve(t, e)
	require.Equal(t, "ASIA1", creds.AccessKeyID)
	require.Equal(t, "123456789012", creds.AccountID, "from the assumed role's ARN")
	calls := sts.recorded()
	require.Len(t, calls, 1)
	require.Equal(t, "AssumeRole", calls[0].Action)
	require.True(t, calls[0].Signed)
	require.Equal(t, "AKIABASE", calls[0].SignedBy, "signed with the source profile's keys, and the signature checks out")
	require.Equal(t, map[string]string{
		"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": "arn:aws:iam::123456789012:role/inner",
		"RoleSessionName": "sess-1", "DurationSeconds": "3600", "ExternalId": "ext-1",
	}, calls[0].Form)

	e["AWS_PROFILE"] = "outer"
	_, _ = retrieve(t, e)
	calls = sts.recorded()[1:]
	require.Len(t, calls, 2)
	require.Equal(t, "arn:aws:iam::123456789012:role/inner", calls[0].Form["RoleArn"], "inner role first")
	require.Equal(t, "arn:aws:iam::123456789012:role/outer", calls[1].Form["RoleArn"])
	require.Equal(t, "AKIABASE", calls[0].SignedBy)
	require.Equal(t, "ASIA2", calls[1].SignedBy, "the outer call is signed with the inner role's credentials")
}

// Case 8.
func TestBadProfilesSendNothing(t *testing.T) {
	e := newEnv(t)
	sts := newSTS(t)
	e["AWS_ENDPOINT_URL_STS"] = sts.URL
	e.write(t, "config", `[profile both]
role_arn = arn:aws:iam::1:role/r
source_profile = base
credential_source = Environment

[profile missing]
role_arn = arn:aws:iam::1:role/r
source_profile = nowhere
`)
	e["AWS_PROFILE"] = "both"
	_, err := chain(t, e)
	require.ErrorContains(t, err, "more than one of source_profile, credential_source")
	e["AWS_PROFILE"] = "missing"
	_, err = chain(t, e)
	require.ErrorContains(t, err, `"nowhere" does not exist`)
	require.Empty(t, sts.recorded())
}

// Cases 9 and 10.
func TestWebIdentity(t *testing.T) {
	e := newEnv(t)
	sts := newSTS(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("jwt-one"), 0o600))
	e["AWS_WEB_IDENTITY_TOKEN_FILE"], e["AWS_ROLE_ARN"], e["AWS_ROLE_SESSION_NAME"] = tokenFile, "arn:aws:iam::1:role/web", "web-sess"
	e["AWS_REGION"], e["AWS_ENDPOINT_URL_STS"] = "eu-central-1", sts.URL
	creds, c := retrieve(t, e)
	require.Equal(t, "ASIA1", creds.AccessKeyID)
	calls := sts.recorded()
	require.Len(t, calls, 1)
	require.Equal(t, "AssumeRoleWithWebIdentity", calls[0].Action)
	require.False(t, calls[0].Signed, "unsigned")
	require.Equal(t, "jwt-one", calls[0].Form["WebIdentityToken"])
	require.Equal(t, "web-sess", calls[0].Form["RoleSessionName"])

	require.NoError(t, os.WriteFile(tokenFile, []byte("jwt-two"), 0o600))
	c.Invalidate()
	_, err := c.Retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, "jwt-two", sts.recorded()[1].Form["WebIdentityToken"], "the file is read again")

	delete(e, "AWS_REGION")
	delete(e, "AWS_ENDPOINT_URL_STS")
	_, err = chain(t, e)
	require.ErrorContains(t, err, "missing region")
	delete(e, "AWS_ROLE_ARN")
	_, err = chain(t, e)
	require.ErrorContains(t, err, "AWS_ROLE_ARN")
}

// Case 15.
func TestCredentialProcess(t *testing.T) {
	script := func(t *testing.T, out string) string {
		p := filepath.Join(t.TempDir(), "creds.sh")
		require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\ncat <<'EOF'\n"+out+"\nEOF\n"), 0o700))
		return p
	}
	run := func(t *testing.T, out string) (sigv4.Credentials, error) {
		e := newEnv(t)
		e.write(t, "config", "[default]\ncredential_process = "+script(t, out)+"\n")
		c, err := chain(t, e)
		require.NoError(t, err)
		return c.Retrieve(context.Background())
	}
	creds, err := run(t, `{"Version":1,"AccessKeyId":"AKIAPROC","SecretAccessKey":"proc-secret","SessionToken":"proc-token","Expiration":"2030-01-01T00:00:00Z"}`)
	require.NoError(t, err)
	require.Equal(t, "AKIAPROC", creds.AccessKeyID)
	require.Equal(t, 2030, creds.Expires.Year())

	_, err = run(t, `{"Version":2,"AccessKeyId":"AKIAPROC","SecretAccessKey":"proc-secret"}`)
	require.ErrorContains(t, err, "Version 2")

	_, err = run(t, `garbage with TOPSECRETKEY inside {`)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "TOPSECRETKEY", "the process output never shows in errors")
}

func TestCredentialSource(t *testing.T) {
	e := newEnv(t)
	sts := newSTS(t)
	e["AWS_ENDPOINT_URL_STS"] = sts.URL
	e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"] = "AKIAENVBASE", "env-secret"
	e.write(t, "config", "[profile ci]\nrole_arn = arn:aws:iam::1:role/ci\ncredential_source = Environment\nregion = us-east-1\n\n[profile odd]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Mainframe\n")
	// A profile given in code skips the environment keys as a source, and
	// its credential_source Environment then signs the AssumeRole with them.
	c, err := awscred.NewChain(&awscred.Options{Getenv: e.get, Profile: "ci", AllowHTTP: true})
	require.NoError(t, err)
	creds, err := c.Retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, "ASIA1", creds.AccessKeyID)
	calls := sts.recorded()
	require.Len(t, calls, 1)
	require.True(t, calls[0].Signed)
	require.Equal(t, "arn:aws:iam::1:role/ci", calls[0].Form["RoleArn"])
	require.Contains(t, c.Report().String(), "env: skipped (a profile was given in code)")

	_, err = awscred.NewChain(&awscred.Options{Getenv: e.get, Profile: "odd"})
	require.ErrorContains(t, err, `credential_source "Mainframe"`)
}

func TestWebIdentityRetriesAnInvalidToken(t *testing.T) {
	var calls int
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>expired</Message></Error><RequestId>r1</RequestId></ErrorResponse>`)
			return
		}
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAWEB</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>%s</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	defer sts.Close()
	e := newEnv(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("jwt"), 0o600))
	e["AWS_WEB_IDENTITY_TOKEN_FILE"], e["AWS_ROLE_ARN"], e["AWS_ENDPOINT_URL_STS"] = tokenFile, "arn:aws:iam::1:role/web", sts.URL
	creds, _ := retrieve(t, e)
	require.Equal(t, "ASIAWEB", creds.AccessKeyID)
	require.Equal(t, 2, calls)
}

func TestEndpointResolution(t *testing.T) {
	e := newEnv(t)
	e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"] = "AKIA", "s"
	e.write(t, "config", `[default]
region = eu-north-1
endpoint_url = http://profile.example
services = local

[services local]
s3 =
  endpoint_url = http://s3.services.example
sts =
  endpoint_url = http://sts.services.example
`)
	cfg := func() awscred.Config {
		c, err := chain(t, e)
		require.NoError(t, err)
		return c.Config()
	}
	require.Equal(t, "http://s3.services.example", cfg().S3Endpoint)
	require.Equal(t, "http://sts.services.example", cfg().STSEndpoint)
	e["AWS_ENDPOINT_URL_S3"] = "http://env-s3.example"
	require.Equal(t, "http://env-s3.example", cfg().S3Endpoint, "the service variable wins")
	e["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
	require.Empty(t, cfg().S3Endpoint)
	require.Empty(t, cfg().STSEndpoint)
	delete(e, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
	delete(e, "AWS_ENDPOINT_URL_S3")
	e.write(t, "config", "[default]\nregion = eu-north-1\nendpoint_url = http://profile.example\n")
	e["AWS_ENDPOINT_URL"] = "http://global.example"
	require.Equal(t, "http://global.example", cfg().S3Endpoint, "AWS_ENDPOINT_URL beats the profile's endpoint_url")
	delete(e, "AWS_ENDPOINT_URL")
	require.Equal(t, "http://profile.example", cfg().S3Endpoint)
	e["AWS_REGION"] = "sa-east-1"
	require.Equal(t, "sa-east-1", cfg().Region, "AWS_REGION beats the profile's region")
}
