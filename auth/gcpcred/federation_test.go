package gcpcred_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/gcpcred"
	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/internal/gcpfake"
)

// Tests of the credential files that lean on other credentials
// (impersonated_service_account, external_account), end to end against
// loopback fakes of Google's token endpoint, IAM Credentials
// generateAccessToken and STS token exchange.

const (
	target        = "target@anyblob-test.iam.gserviceaccount.com"
	storageScope  = "https://www.googleapis.com/auth/devstorage.read_write"
	cloudPlatform = "https://www.googleapis.com/auth/cloud-platform"
	audience      = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/prov"
	awsAudience   = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/aws"
)

// fakeIAM is IAM Credentials' generateAccessToken on loopback: it hands
// out Token to whoever shows Bearer WantBearer for the account, and checks
// the lifetime and scope asked for.
type fakeIAM struct {
	URL          string // the service_account_impersonation_url for target
	WantBearer   string
	WantLifetime string
	WantScope    []string
	Token        string
	Calls        atomic.Int64
}

func newFakeIAM(t *testing.T, wantBearer, wantLifetime string, wantScope []string, token string) *fakeIAM {
	f := &fakeIAM{WantBearer: wantBearer, WantLifetime: wantLifetime, WantScope: wantScope, Token: token}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL + "/v1/projects/-/serviceAccounts/" + target + ":generateAccessToken"
	return f
}

func (f *fakeIAM) serve(w http.ResponseWriter, r *http.Request) {
	refuse := func(code int, why string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"code":%d,"message":%q,"status":"PERMISSION_DENIED"}}`, code, why)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/projects/-/serviceAccounts/"+target+":generateAccessToken" {
		refuse(http.StatusNotFound, "no such method "+r.Method+" "+r.URL.Path)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.WantBearer {
		refuse(http.StatusUnauthorized, "the caller is not the source credential")
		return
	}
	var req struct {
		Lifetime  string   `json:"lifetime"`
		Scope     []string `json:"scope"`
		Delegates []string `json:"delegates"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		refuse(http.StatusBadRequest, "body is not JSON")
		return
	}
	if req.Lifetime != f.WantLifetime || strings.Join(req.Scope, " ") != strings.Join(f.WantScope, " ") {
		refuse(http.StatusBadRequest, fmt.Sprintf("lifetime %q scope %q", req.Lifetime, req.Scope))
		return
	}
	f.Calls.Add(1)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"accessToken":%q,"expireTime":%q}`, f.Token, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
}

// fakeSTS is Google's STS token exchange on loopback: it checks the grant,
// the audience, the subject token type, the scope and (with Check) the
// subject token, then hands out Token.
type fakeSTS struct {
	URL       string
	Audience  string
	TokenType string
	WantScope string
	// Check checks the subject token and the request; nil error accepts.
	Check func(subject string, r *http.Request) error
	Token string
	Calls atomic.Int64
}

func newFakeSTS(t *testing.T, s *fakeSTS) *fakeSTS {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := func(why string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, why)
		}
		if r.Method != http.MethodPost || r.URL.Path != "/v1/token" {
			refuse("not the token exchange")
			return
		}
		if err := r.ParseForm(); err != nil {
			refuse("bad form")
			return
		}
		switch {
		case r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
			refuse("grant_type " + r.PostForm.Get("grant_type"))
		case r.PostForm.Get("requested_token_type") != "urn:ietf:params:oauth:token-type:access_token":
			refuse("requested_token_type")
		case r.PostForm.Get("audience") != s.Audience:
			refuse("audience " + r.PostForm.Get("audience"))
		case r.PostForm.Get("subject_token_type") != s.TokenType:
			refuse("subject_token_type " + r.PostForm.Get("subject_token_type"))
		case r.PostForm.Get("scope") != s.WantScope:
			refuse("scope " + r.PostForm.Get("scope"))
		default:
			if err := s.Check(r.PostForm.Get("subject_token"), r); err != nil {
				refuse(err.Error())
				return
			}
			s.Calls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":%q,"issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3600}`, s.Token)
		}
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/v1/token"
	return s
}

// fakeUserTokenEndpoint is Google's OAuth2 token endpoint for an
// authorized_user: it accepts the refresh grant of one client and refresh
// token and hands out token.
func fakeUserTokenEndpoint(t *testing.T, clientID, clientSecret, refresh, token string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" ||
			r.PostForm.Get("refresh_token") != refresh || r.PostForm.Get("client_id") != clientID ||
			r.PostForm.Get("client_secret") != clientSecret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600,"token_type":"Bearer"}`, token)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/token"
}

// writeJSON writes v as a credentials file and points
// GOOGLE_APPLICATION_CREDENTIALS at it.
func writeJSON(t *testing.T, v any) string {
	data, err := json.Marshal(v)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "credentials.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", path)
	return path
}

// token finds credentials and gets a token, returning it and the report's
// reason for the file.
func token(t *testing.T, opts *gcpcred.Options) (string, string) {
	t.Helper()
	creds, rep, err := gcpcred.Find(context.Background(), opts)
	require.NoError(t, err)
	tok, err := creds.TokenSource.Token()
	require.NoError(t, err)
	used, ok := rep.Used()
	require.True(t, ok)
	require.Equal(t, "GOOGLE_APPLICATION_CREDENTIALS", used.Source)
	return tok.AccessToken, used.Reason
}

func TestImpersonatedServiceAccount(t *testing.T) {
	t.Run("from an authorized user", func(t *testing.T) {
		isolate(t)
		userURL := fakeUserTokenEndpoint(t, "client-1", "USERSECRET", "REFRESHSECRET", "user-token")
		iam := newFakeIAM(t, "user-token", "3600s", []string{storageScope}, "impersonated-token")
		writeJSON(t, map[string]any{
			"type":                              "impersonated_service_account",
			"service_account_impersonation_url": iam.URL,
			"delegates":                         []string{},
			"source_credentials": map[string]any{
				"type": "authorized_user", "client_id": "client-1", "client_secret": "USERSECRET",
				"refresh_token": "REFRESHSECRET", "token_uri": userURL,
			},
		})
		tok, reason := token(t, &gcpcred.Options{Scopes: []string{storageScope}})
		require.Equal(t, "impersonated-token", tok)
		require.Equal(t, int64(1), iam.Calls.Load())
		require.Contains(t, reason, "impersonated_service_account, source credentials authorized_user, impersonating "+target)
	})

	t.Run("from a service account key", func(t *testing.T) {
		isolate(t)
		sa, te := gcpfake.NewServiceAccount(t, "sa-token") // checks the signed JWT grant
		var source map[string]any
		data, err := os.ReadFile(sa.File)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &source))
		iam := newFakeIAM(t, "sa-token", "3600s", []string{cloudPlatform}, "impersonated-token-2")
		writeJSON(t, map[string]any{
			"type":                              "impersonated_service_account",
			"service_account_impersonation_url": iam.URL,
			"source_credentials":                source,
		})
		tok, reason := token(t, nil)
		require.Equal(t, "impersonated-token-2", tok)
		require.Equal(t, int64(1), te.Grants.Load())
		require.Contains(t, reason, "source credentials service_account, impersonating "+target)
	})

	t.Run("refused: the error holds no secret", func(t *testing.T) {
		isolate(t)
		userURL := fakeUserTokenEndpoint(t, "client-1", "USERSECRET", "REFRESHSECRET", "user-token")
		iam := newFakeIAM(t, "another-token", "3600s", []string{cloudPlatform}, "never")
		writeJSON(t, map[string]any{
			"type":                              "impersonated_service_account",
			"service_account_impersonation_url": iam.URL,
			"source_credentials": map[string]any{
				"type": "authorized_user", "client_id": "client-1", "client_secret": "USERSECRET",
				"refresh_token": "REFRESHSECRET", "token_uri": userURL,
			},
		})
		creds, _, err := gcpcred.Find(context.Background(), nil)
		require.NoError(t, err)
		_, err = creds.TokenSource.Token()
		require.ErrorContains(t, err, "401")
		for _, secret := range []string{"USERSECRET", "REFRESHSECRET", "user-token"} {
			require.NotContains(t, err.Error(), secret)
		}
	})
}

func TestExternalAccountFileAndURL(t *testing.T) {
	const jwtType = "urn:ietf:params:oauth:token-type:jwt"
	subjectIs := func(want string) func(string, *http.Request) error {
		return func(got string, _ *http.Request) error {
			if got != want {
				return fmt.Errorf("wrong subject token")
			}
			return nil
		}
	}

	t.Run("file source", func(t *testing.T) {
		isolate(t)
		tokenFile := filepath.Join(t.TempDir(), "oidc-token")
		require.NoError(t, os.WriteFile(tokenFile, []byte("OIDC-SUBJECT-1"), 0o600))
		sts := newFakeSTS(t, &fakeSTS{Audience: audience, TokenType: jwtType, WantScope: storageScope, Check: subjectIs("OIDC-SUBJECT-1"), Token: "federated-token"})
		writeJSON(t, map[string]any{
			"type": "external_account", "audience": audience, "subject_token_type": jwtType,
			"token_url":         sts.URL,
			"credential_source": map[string]any{"file": tokenFile},
		})
		tok, reason := token(t, &gcpcred.Options{Scopes: []string{storageScope}})
		require.Equal(t, "federated-token", tok)
		require.Contains(t, reason, "external_account, subject token from file "+tokenFile)

		// The file is read again at each exchange: a rotated token is used.
		require.NoError(t, os.WriteFile(tokenFile, []byte("OIDC-SUBJECT-2"), 0o600))
		sts.Check = subjectIs("OIDC-SUBJECT-2")
		creds, _, err := gcpcred.Find(context.Background(), &gcpcred.Options{Scopes: []string{storageScope}})
		require.NoError(t, err)
		_, err = creds.TokenSource.Token()
		require.NoError(t, err)
		require.Equal(t, int64(2), sts.Calls.Load())
	})

	t.Run("URL source in JSON, then impersonation", func(t *testing.T) {
		isolate(t)
		src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Metadata") != "True" {
				http.Error(w, "missing header", http.StatusBadRequest)
				return
			}
			fmt.Fprint(w, `{"access_token":"AZURE-SUBJECT","token_type":"Bearer"}`)
		}))
		t.Cleanup(src.Close)
		// With impersonation, STS is asked for cloud-platform and IAM for the scopes.
		sts := newFakeSTS(t, &fakeSTS{Audience: audience, TokenType: jwtType, WantScope: cloudPlatform, Check: subjectIs("AZURE-SUBJECT"), Token: "sts-token"})
		iam := newFakeIAM(t, "sts-token", "1800s", []string{storageScope}, "impersonated-federated-token")
		writeJSON(t, map[string]any{
			"type": "external_account", "audience": audience, "subject_token_type": jwtType,
			"token_url":                         sts.URL,
			"service_account_impersonation_url": iam.URL,
			"service_account_impersonation":     map[string]any{"token_lifetime_seconds": 1800},
			"credential_source": map[string]any{
				"url":     src.URL + "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x",
				"headers": map[string]string{"Metadata": "True"},
				"format":  map[string]string{"type": "json", "subject_token_field_name": "access_token"},
			},
		})
		tok, reason := token(t, &gcpcred.Options{Scopes: []string{storageScope}})
		require.Equal(t, "impersonated-federated-token", tok)
		require.Equal(t, int64(1), sts.Calls.Load())
		require.Equal(t, int64(1), iam.Calls.Load())
		u, _ := url.Parse(src.URL)
		require.Contains(t, reason, "subject token from URL on "+u.Host+", impersonating "+target)
		require.NotContains(t, reason, "api-version", "only the host of the URL is reported")
	})

	t.Run("wrong audience: refused, no secret in the error", func(t *testing.T) {
		isolate(t)
		tokenFile := filepath.Join(t.TempDir(), "oidc-token")
		require.NoError(t, os.WriteFile(tokenFile, []byte("OIDC-SECRET-SUBJECT"), 0o600))
		sts := newFakeSTS(t, &fakeSTS{Audience: audience, TokenType: jwtType, WantScope: cloudPlatform, Check: subjectIs("OIDC-SECRET-SUBJECT"), Token: "never"})
		writeJSON(t, map[string]any{
			"type": "external_account", "audience": audience + "-other", "subject_token_type": jwtType,
			"token_url": sts.URL, "credential_source": map[string]any{"file": tokenFile},
		})
		creds, _, err := gcpcred.Find(context.Background(), nil)
		require.NoError(t, err)
		_, err = creds.TokenSource.Token()
		require.ErrorContains(t, err, "audience")
		require.NotContains(t, err.Error(), "OIDC-SECRET-SUBJECT")
	})
}

// AWS workload identity federation. The test gives the AWS chain its keys
// through the environment; the fake STS opens the subject token, rebuilds
// the signed GetCallerIdentity request and checks it with anyblob's own
// SigV4 verifier against those keys.

const (
	awsKeyID   = "AKIDFEDERATION"
	awsSecret  = "AWS-SECRET-KEY-xyz"
	awsSession = "AWS-SESSION-TOKEN-xyz"
	awsType    = "urn:ietf:params:aws:token-type:aws4_request"
)

// isolateAWS leaves the AWS chain no source but what the test sets: no
// shared files, no profile, no environment keys, no IMDS.
func isolateAWS(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
	} {
		t.Setenv(k, "")
	}
}

// awsProof checks a subject token from AWS as Google's STS does: the
// URL-encoded JSON of a GetCallerIdentity request to the regional STS,
// whose SigV4 signature (checked with auth/sigv4's Verifier against the
// test's keys) covers x-goog-cloud-target-resource = the audience.
// wantSource is the metrics header's credential source: "programmatic"
// when a supplier gave the keys, "aws" when the oauth2 library found them.
func awsProof(region, keyID, secret, session, wantSource string) func(string, *http.Request) error {
	return func(subject string, r *http.Request) error {
		if !strings.Contains(r.Header.Get("x-goog-api-client"), "source/"+wantSource) {
			return fmt.Errorf("keys not from %s: %s", wantSource, r.Header.Get("x-goog-api-client"))
		}
		raw, err := url.QueryUnescape(subject)
		if err != nil {
			return fmt.Errorf("subject token is not URL-encoded")
		}
		var proof struct {
			URL     string `json:"url"`
			Method  string `json:"method"`
			Headers []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"headers"`
		}
		if err := json.Unmarshal([]byte(raw), &proof); err != nil {
			return fmt.Errorf("subject token is not JSON")
		}
		if want := "https://sts." + region + ".amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"; proof.URL != want || proof.Method != http.MethodPost {
			return fmt.Errorf("proof is %s %s, not POST %s", proof.Method, proof.URL, want)
		}
		req, err := http.NewRequest(proof.Method, proof.URL, nil)
		if err != nil {
			return err
		}
		for _, h := range proof.Headers {
			if strings.EqualFold(h.Key, "host") {
				req.Host = h.Value
				continue
			}
			req.Header.Add(h.Key, h.Value)
		}
		if req.Header.Get("x-goog-cloud-target-resource") != awsAudience {
			return fmt.Errorf("proof is for another audience")
		}
		if !strings.Contains(req.Header.Get("Authorization"), "x-goog-cloud-target-resource") {
			return fmt.Errorf("the audience is not signed")
		}
		v := &sigv4.Verifier{Service: "sts", Region: region, Credentials: func(_ context.Context, id string) (sigv4.Credentials, error) {
			if id != keyID {
				return sigv4.Credentials{}, sigv4.ErrUnknownAccessKey
			}
			return sigv4.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: session}, nil
		}}
		if _, err := v.Verify(req); err != nil {
			return fmt.Errorf("GetCallerIdentity signature: %v", err)
		}
		return nil
	}
}

// awsFile writes an external_account file with an AWS source whose
// metadata URLs lead nowhere (127.0.0.1:1): only the keys the test gives
// can sign the proof.
func awsFile(t *testing.T, stsURL, impersonationURL string) string {
	dead := "http://127.0.0.1:1"
	return writeJSON(t, map[string]any{
		"type": "external_account", "audience": awsAudience, "subject_token_type": awsType,
		"token_url": stsURL, "service_account_impersonation_url": impersonationURL,
		"credential_source": map[string]any{
			"environment_id":                 "aws1",
			"region_url":                     dead + "/latest/meta-data/placement/availability-zone",
			"url":                            dead + "/latest/meta-data/iam/security-credentials",
			"regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15",
			"imdsv2_session_token_url":       dead + "/latest/api/token",
		},
	})
}

func TestExternalAccountAWSThroughTheAWSChain(t *testing.T) {
	t.Run("environment keys, then impersonation", func(t *testing.T) {
		isolate(t)
		isolateAWS(t)
		t.Setenv("AWS_ACCESS_KEY_ID", awsKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", awsSecret)
		t.Setenv("AWS_SESSION_TOKEN", awsSession)
		t.Setenv("AWS_REGION", "eu-west-3")
		sts := newFakeSTS(t, &fakeSTS{Audience: awsAudience, TokenType: awsType, WantScope: cloudPlatform,
			Check: awsProof("eu-west-3", awsKeyID, awsSecret, awsSession, "programmatic"), Token: "aws-sts-token"})
		iam := newFakeIAM(t, "aws-sts-token", "3600s", []string{storageScope}, "aws-impersonated-token")
		awsFile(t, sts.URL, iam.URL)

		tok, reason := token(t, &gcpcred.Options{Scopes: []string{storageScope}, AWS: &gcpcred.AWSSupplier{}})
		require.Equal(t, "aws-impersonated-token", tok)
		require.Equal(t, int64(1), sts.Calls.Load())
		require.Equal(t, int64(1), iam.Calls.Load())
		require.Contains(t, reason, "external_account, AWS keys and region from the AWS chain, env, impersonating "+target)
	})

	t.Run("a profile the oauth2 library cannot read", func(t *testing.T) {
		isolate(t)
		isolateAWS(t)
		dir := t.TempDir()
		creds := filepath.Join(dir, "credentials")
		config := filepath.Join(dir, "config")
		require.NoError(t, os.WriteFile(creds, []byte("[fed]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = PROFILE-SECRET\n"), 0o600))
		require.NoError(t, os.WriteFile(config, []byte("[profile fed]\nregion = ap-south-1\n"), 0o600))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
		t.Setenv("AWS_CONFIG_FILE", config)
		t.Setenv("AWS_PROFILE", "fed")
		sts := newFakeSTS(t, &fakeSTS{Audience: awsAudience, TokenType: awsType, WantScope: storageScope,
			Check: awsProof("ap-south-1", "AKIDPROFILE", "PROFILE-SECRET", "", "programmatic"), Token: "profile-token"})
		awsFile(t, sts.URL, "")

		tok, reason := token(t, &gcpcred.Options{Scopes: []string{storageScope}, AWS: &gcpcred.AWSSupplier{}})
		require.Equal(t, "profile-token", tok)
		require.Contains(t, reason, "from the AWS chain, profile fed")

		// Without the option the oauth2 library looks for itself: no
		// environment keys, so it goes to the file's metadata URL, where
		// nothing answers.
		creds2, _, err := gcpcred.Find(context.Background(), &gcpcred.Options{Scopes: []string{storageScope}})
		require.NoError(t, err)
		_, err = creds2.TokenSource.Token()
		require.Error(t, err)
		require.NotContains(t, err.Error(), "PROFILE-SECRET")
	})

	t.Run("an explicit source and region", func(t *testing.T) {
		isolate(t)
		isolateAWS(t)
		sts := newFakeSTS(t, &fakeSTS{Audience: awsAudience, TokenType: awsType, WantScope: cloudPlatform,
			Check: awsProof("us-east-2", "AKIDCODE", "CODE-SECRET", "", "programmatic"), Token: "code-token"})
		awsFile(t, sts.URL, "")
		sup := &gcpcred.AWSSupplier{Credentials: sigv4.StaticCredentials{AccessKeyID: "AKIDCODE", SecretAccessKey: "CODE-SECRET"}, Region: "us-east-2"}
		tok, reason := token(t, &gcpcred.Options{AWS: sup})
		require.Equal(t, "code-token", tok)
		require.Contains(t, reason, "AWS keys and region from AWSSupplier.Credentials")
	})

	t.Run("without the option the library's own lookup is reported", func(t *testing.T) {
		isolate(t)
		isolateAWS(t)
		t.Setenv("AWS_ACCESS_KEY_ID", awsKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", awsSecret)
		t.Setenv("AWS_REGION", "eu-west-3")
		sts := newFakeSTS(t, &fakeSTS{Audience: awsAudience, TokenType: awsType, WantScope: cloudPlatform,
			Check: awsProof("eu-west-3", awsKeyID, awsSecret, "", "aws"), Token: "library-token"})
		awsFile(t, sts.URL, "")
		tok, reason := token(t, nil)
		require.Equal(t, "library-token", tok)
		require.Contains(t, reason, "AWS keys and region from the oauth2 library")
	})

	t.Run("the AWS chain fails: Find says why, with no secret", func(t *testing.T) {
		isolate(t)
		isolateAWS(t)
		t.Setenv("AWS_ACCESS_KEY_ID", awsKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", awsSecret)
		t.Setenv("AWS_PROFILE", "missing") // an error even with env keys, as in the SDKs
		awsFile(t, "http://127.0.0.1:1/v1/token", "")
		_, rep, err := gcpcred.Find(context.Background(), &gcpcred.Options{AWS: &gcpcred.AWSSupplier{}})
		require.ErrorContains(t, err, "AWS chain")
		require.ErrorContains(t, err, "missing")
		require.NotContains(t, err.Error(), awsSecret)
		require.Equal(t, auth.Failed, rep.Attempts[0].Outcome)
		require.NotContains(t, rep.String(), awsSecret)
	})

	t.Run("no region", func(t *testing.T) {
		isolate(t)
		isolateAWS(t)
		t.Setenv("AWS_ACCESS_KEY_ID", awsKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", awsSecret)
		awsFile(t, "http://127.0.0.1:1/v1/token", "")
		_, _, err := gcpcred.Find(context.Background(), &gcpcred.Options{AWS: &gcpcred.AWSSupplier{}})
		require.ErrorContains(t, err, "no AWS region")
	})

	t.Run("STS refuses: no secret in the error", func(t *testing.T) {
		isolate(t)
		isolateAWS(t)
		t.Setenv("AWS_ACCESS_KEY_ID", awsKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", awsSecret)
		t.Setenv("AWS_SESSION_TOKEN", awsSession)
		t.Setenv("AWS_REGION", "eu-west-3")
		// The fake expects other keys: the signature does not verify.
		sts := newFakeSTS(t, &fakeSTS{Audience: awsAudience, TokenType: awsType, WantScope: cloudPlatform,
			Check: awsProof("eu-west-3", awsKeyID, "another-secret", awsSession, "programmatic"), Token: "never"})
		awsFile(t, sts.URL, "")
		creds, _, err := gcpcred.Find(context.Background(), &gcpcred.Options{AWS: &gcpcred.AWSSupplier{}})
		require.NoError(t, err)
		_, err = creds.TokenSource.Token()
		require.ErrorContains(t, err, "signature")
		for _, secret := range []string{awsSecret, awsSession} {
			require.NotContains(t, err.Error(), secret)
		}
		require.Equal(t, int64(0), sts.Calls.Load())
	})

	t.Run("an AWS file with another environment_id", func(t *testing.T) {
		isolate(t)
		isolateAWS(t)
		writeJSON(t, map[string]any{
			"type": "external_account", "audience": awsAudience, "subject_token_type": awsType,
			"token_url": "http://127.0.0.1:1/v1/token", "credential_source": map[string]any{"environment_id": "aws9"},
		})
		_, _, err := gcpcred.Find(context.Background(), &gcpcred.Options{AWS: &gcpcred.AWSSupplier{}})
		require.ErrorContains(t, err, `environment_id "aws9" is not supported`)
	})
}

func TestFieldOfTheWrongType(t *testing.T) {
	isolate(t)
	writeJSON(t, map[string]any{"type": "external_account", "service_account_impersonation": "TOPSECRET"})
	_, _, err := gcpcred.Find(context.Background(), nil)
	require.ErrorContains(t, err, "field service_account_impersonation has the wrong type")
	require.NotContains(t, err.Error(), "TOPSECRET")
}
