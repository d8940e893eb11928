package awscred_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth"
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

// Cases 11 and 12.
func TestContainerEndpoint(t *testing.T) {
	var gotAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		fmt.Fprintf(w, `{"AccessKeyId":"ASIACTR","SecretAccessKey":"ctr-secret","Token":"ctr-token","Expiration":%q,"AccountId":"210987654321"}`, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	defer srv.Close()
	e := newEnv(t)
	tokenFile := filepath.Join(t.TempDir(), "tok")
	require.NoError(t, os.WriteFile(tokenFile, []byte("Bearer from-file"), 0o600))
	e["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = srv.URL + "/creds"
	e["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = tokenFile
	e["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "from-var"
	creds, _ := retrieve(t, e)
	require.Equal(t, "ASIACTR", creds.AccessKeyID)
	require.Equal(t, "210987654321", creds.AccountID)
	require.Equal(t, []string{"Bearer from-file"}, gotAuth, "exactly the file's content; the file beats the variable")

	require.NoError(t, os.WriteFile(tokenFile, []byte("Bearer x\n"), 0o600))
	c, err := chain(t, e)
	require.NoError(t, err)
	_, err = c.Retrieve(context.Background())
	require.ErrorContains(t, err, "CR or LF")
	require.Len(t, gotAuth, 1, "no request with a bad token")

	e["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://192.0.2.10/creds"
	_, err = chain(t, e)
	require.ErrorContains(t, err, "neither loopback nor a container credentials host")

	e["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "https://creds.example.com/v1"
	_, err = chain(t, e)
	require.NoError(t, err, "https may go to any host")
}

// Case 13.
func TestIMDSv2(t *testing.T) {
	e := newEnv(t)
	imds := newIMDS(t, 200, "2099-01-01T00:00:00Z")
	delete(e, "AWS_EC2_METADATA_DISABLED")
	e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.URL
	creds, _ := retrieve(t, e)
	require.Equal(t, "ASIAIMDS", creds.AccessKeyID)
	require.WithinDuration(t, time.Now().Add(time.Hour), creds.Expires, time.Minute, "2099 is capped at one hour")
	require.Equal(t, []string{
		"PUT /latest/api/token token=",
		"GET /latest/meta-data/iam/security-credentials/ token=imds-token",
		"GET /latest/meta-data/iam/security-credentials/first-role token=imds-token",
	}, imds.requests())
}

// Case 14.
func TestIMDSFallbackRules(t *testing.T) {
	exp := time.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339)
	t.Run("403 falls back to v1", func(t *testing.T) {
		e := newEnv(t)
		imds := newIMDS(t, 403, exp)
		delete(e, "AWS_EC2_METADATA_DISABLED")
		e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.URL
		creds, _ := retrieve(t, e)
		require.Equal(t, "ASIAIMDS", creds.AccessKeyID)
		for _, r := range imds.requests()[1:] {
			require.True(t, strings.HasSuffix(r, "token="), "v1 sends no token: %s", r)
		}
	})
	t.Run("403 with v1 disabled fails", func(t *testing.T) {
		e := newEnv(t)
		imds := newIMDS(t, 403, exp)
		delete(e, "AWS_EC2_METADATA_DISABLED")
		e["AWS_EC2_METADATA_SERVICE_ENDPOINT"], e["AWS_EC2_METADATA_V1_DISABLED"] = imds.URL, "true"
		c, err := chain(t, e)
		require.NoError(t, err)
		_, err = c.Retrieve(context.Background())
		require.ErrorContains(t, err, "IMDSv1 is disabled")
	})
	t.Run("400 is an error", func(t *testing.T) {
		e := newEnv(t)
		imds := newIMDS(t, 400, exp)
		delete(e, "AWS_EC2_METADATA_DISABLED")
		e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.URL
		c, err := chain(t, e)
		require.NoError(t, err)
		_, err = c.Retrieve(context.Background())
		require.ErrorContains(t, err, "400")
		require.Len(t, imds.requests(), 1, "no fallback")
	})
	t.Run("disabled sends nothing", func(t *testing.T) {
		e := newEnv(t)
		imds := newIMDS(t, 200, exp)
		e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.URL
		_, err := chain(t, e)
		var nce *auth.NoCredentialsError
		require.ErrorAs(t, err, &nce)
		require.Contains(t, err.Error(), "imds: skipped (disabled by AWS_EC2_METADATA_DISABLED)")
		require.Empty(t, imds.requests())
	})
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

func TestSecretsNeverPrinted(t *testing.T) {
	e := newEnv(t)
	e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"], e["AWS_SESSION_TOKEN"] = "AKIAENV", "TOPSECRET-KEY", "TOPSECRET-TOKEN"
	creds, c := retrieve(t, e)
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("creds", "c", creds)
	for _, s := range []string{fmt.Sprint(creds), fmt.Sprintf("%+v", creds), fmt.Sprintf("%#v", creds), creds.String(), logged.String(), c.Report().String()} {
		require.NotContains(t, s, "TOPSECRET")
	}
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

// TestIMDSTokenRefreshAndOutage: a GET refused with 401 gets a new token
// and is tried again; when IMDS later fails, the last credentials are
// kept for 5 to 15 more minutes.
func TestIMDSTokenRefreshAndOutage(t *testing.T) {
	var puts int
	var down bool
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		switch {
		case r.Method == http.MethodPut:
			puts++
			fmt.Fprintf(w, "t%d", puts)
		case r.Header.Get("X-aws-ec2-metadata-token") != "t2":
			http.Error(w, "expired token", http.StatusUnauthorized)
		case strings.HasSuffix(r.URL.Path, "/security-credentials/"):
			fmt.Fprint(w, "role")
		default:
			fmt.Fprintf(w, `{"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"s","Token":"t","Expiration":%q}`, time.Now().Add(20*time.Minute).UTC().Format(time.RFC3339))
		}
	}))
	defer srv.Close()
	e := newEnv(t)
	delete(e, "AWS_EC2_METADATA_DISABLED")
	e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = srv.URL
	creds, c := retrieve(t, e)
	require.Equal(t, "ASIAIMDS", creds.AccessKeyID)
	require.Equal(t, 2, puts, "a second token after the 401")

	mu.Lock()
	down = true
	mu.Unlock()
	c.Invalidate()
	kept, err := c.Retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, "ASIAIMDS", kept.AccessKeyID)
	left := time.Until(kept.Expires)
	require.True(t, left > 4*time.Minute && left <= 15*time.Minute, "extended by 5 to 15 minutes, got %v", left)
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

// TestNoTypePrintsASecret prints every credential-holding type of the
// package, after use, every way fmt and slog can.
func TestNoTypePrintsASecret(t *testing.T) {
	e := newEnv(t)
	e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"], e["AWS_SESSION_TOKEN"] = "AKIAENV", "TOPSECRET-KEY", "TOPSECRET-TOKEN"
	creds, c := retrieve(t, e)
	sts := newSTS(t)
	role, err := awscred.AssumeRole(c, awscred.AssumeRoleOptions{RoleARN: "arn:aws:iam::1:role/r", Endpoint: sts.URL, AllowHTTP: true})
	require.NoError(t, err)
	_, err = role.Retrieve(context.Background())
	require.NoError(t, err)
	static := sigv4.StaticCredentials(creds)
	for _, v := range []any{creds, &creds, static, c, role, c.Report()} {
		var logged strings.Builder
		slog.New(slog.NewTextHandler(&logged, nil)).Info("v", "v", v)
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("v", "v", v)
		for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), logged.String()} {
			require.NotContains(t, s, "TOPSECRET", "%T", v)
			require.NotContains(t, s, "secret-1", "%T: the assumed role's secret", v)
		}
	}
}
