package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
)

// isolateCreds points every chain at nothing real: no metadata address,
// no home directory, the given AWS keys.
func isolateCreds(t *testing.T, keyID, secret string) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/credentials")
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "prod") // no developer tools, no IMDS guesswork
	t.Setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:1/token")
	t.Setenv("IMDS_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("AZURE_CLIENT_ID", "")
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("CLOUDSDK_CONFIG", t.TempDir())
}

// verifyingServer answers requests whose SigV4 signature (with secret)
// checks, and records what it was sent.
type verifyingServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newVerifyingServer(t *testing.T, keyID, secret, service, region, answer string) *verifyingServer {
	return newVerifyingServerToken(t, keyID, secret, "", service, region, answer)
}

// newVerifyingServerToken is newVerifyingServer for session credentials.
func newVerifyingServerToken(t *testing.T, keyID, secret, token, service, region, answer string) *verifyingServer {
	v := &sigv4.Verifier{
		Service: service, Region: region,
		Credentials: func(_ context.Context, id string) (sigv4.Credentials, error) {
			if id != keyID {
				return sigv4.Credentials{}, errors.New("unknown key")
			}
			return sigv4.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token}, nil
		},
	}
	s := &verifyingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Clone(r.Context()))
		s.mu.Unlock()
		if _, err := v.Verify(r); err != nil {
			http.Error(w, "bad signature: "+err.Error(), http.StatusForbidden)
			return
		}
		io.WriteString(w, answer)
	}))
	t.Cleanup(s.Close)
	return s
}

const callerIdentityXML = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
	`<Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>` +
	`</GetCallerIdentityResult></GetCallerIdentityResponse>`

func TestWhoami(t *testing.T) {
	isolateCreds(t, "AKIAWHOAMI", "whoami-secret-value")
	sts := newVerifyingServer(t, "AKIAWHOAMI", "whoami-secret-value", "sts", "eu-west-1", callerIdentityXML)
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	c := newCLI(t)
	code, out, errOut := c.run("", "whoami")
	require.Equal(t, 1, code, "azure and gcp have nothing: %s", errOut)
	require.Contains(t, out, "aws credential chain:\n  env: used")
	require.Contains(t, out, "aws identity: arn:aws:iam::123456789012:user/alice (account 123456789012, user id AIDAEXAMPLE)")
	require.Contains(t, out, "azure credential chain:")
	require.Contains(t, out, "gcp credential chain:")
	require.Contains(t, errOut, "no usable credentials for azure, gcp")
	require.NotContains(t, out+errOut, "whoami-secret-value")

	out = c.ok("", "whoami", "--cloud", "aws")
	require.Contains(t, out, "aws identity:")
	code, _, errOut = c.run("", "whoami", "--cloud", "ibm")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unknown cloud "ibm"`)
}

func TestSign(t *testing.T) {
	isolateCreds(t, "AKIASIGN", "sign-secret-value")
	t.Setenv("AWS_SESSION_TOKEN", "session-token-value")
	api := newVerifyingServerToken(t, "AKIASIGN", "sign-secret-value", "session-token-value", "execute-api", "eu-west-1", `{"items":[]}`)
	c := newCLI(t)

	out := c.ok("", "sign", "--service", "execute-api", api.URL+"/prod/items")
	require.Equal(t, `{"items":[]}`, out, "the signature checks and the body is printed")

	code, out, errOut := c.run("", "curl", "-v", "--service", "execute-api", "-X", "POST", "-H", "Content-Type: application/json", "-d", `{"a":1}`, api.URL+"/prod/items")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, `{"items":[]}`, out)
	require.Contains(t, errOut, "> POST /prod/items")
	require.Contains(t, errOut, "Signature=[masked]")
	require.Contains(t, errOut, "X-Amz-Security-Token: [masked]")
	require.NotContains(t, errOut, "session-token-value")
	require.NotContains(t, errOut+out, "sign-secret-value")
	api.mu.Lock()
	last := api.seen[len(api.seen)-1]
	api.mu.Unlock()
	require.Equal(t, http.MethodPost, last.Method)

	// Signed for the wrong region: the server refuses, the command says so.
	code, _, errOut = c.run("", "sign", "--service", "execute-api", "--region", "us-west-2", api.URL+"/x")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "403")

	code, _, errOut = c.run("", "sign", "http://127.0.0.1:1/x")
	require.Equal(t, 2, code, "no service from a bare host")
	require.Contains(t, errOut, "--service")
}

func TestServiceAndRegion(t *testing.T) {
	for host, want := range map[string][2]string{
		"abc123.execute-api.eu-west-1.amazonaws.com": {"execute-api", "eu-west-1"},
		"sts.us-east-1.amazonaws.com":                {"sts", "us-east-1"},
		"s3.us-gov-west-1.amazonaws.com":             {"s3", "us-gov-west-1"},
		"iam.amazonaws.com":                          {"iam", ""},
		"example.com":                                {"", ""},
	} {
		s, r := serviceAndRegion(host)
		require.Equal(t, want, [2]string{s, r}, host)
	}
}

func TestToken(t *testing.T) {
	isolateCreds(t, "AKIATOKEN", "token-secret-value")
	c := newCLI(t)
	out := c.ok("", "token", "gcp", "--audience", "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/aws")
	raw, err := url.QueryUnescape(strings.TrimSpace(out))
	require.NoError(t, err)
	var tok struct {
		URL     string `json:"url"`
		Method  string `json:"method"`
		Headers []struct{ Key, Value string }
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &tok), raw)
	require.Equal(t, "POST", tok.Method)
	require.Contains(t, tok.URL, "sts.eu-west-1.amazonaws.com")
	var target bool
	for _, h := range tok.Headers {
		target = target || strings.EqualFold(h.Key, "x-goog-cloud-target-resource")
	}
	require.True(t, target, "the subject token signs the target resource")

	out = c.ok("", "token", "vault", "--server-id", "vault.example.com")
	var vault map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &vault))
	require.Equal(t, "POST", vault["iam_http_request_method"])
	require.NotContains(t, out, "token-secret-value")

	code, _, errOut := c.run("", "token", "gcp")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--audience")
}
