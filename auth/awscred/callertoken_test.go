package awscred_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/awscred"
	"github.com/anyblob/anyblob/auth/sigv4"
)

var testCreds = sigv4.StaticCredentials{AccessKeyID: "AKIDCALLER", SecretAccessKey: "caller-secret", SessionToken: "caller-session"}

// verify checks a rebuilt request with the sigv4 verifier, as STS would.
func verify(t *testing.T, req *http.Request, region string) {
	t.Helper()
	v := &sigv4.Verifier{Service: "sts", Region: region, Credentials: func(_ context.Context, id string) (sigv4.Credentials, error) {
		require.Equal(t, "AKIDCALLER", id)
		return sigv4.Credentials(testCreds), nil
	}}
	_, err := v.Verify(req)
	require.NoError(t, err)
}

func TestGCPSubjectToken(t *testing.T) {
	target := "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/aws"
	tok, err := awscred.GCPSubjectToken(context.Background(), testCreds, "us-east-1", target)
	require.NoError(t, err)
	raw, err := url.QueryUnescape(tok)
	require.NoError(t, err)
	var st struct {
		URL     string
		Method  string
		Headers []struct{ Key, Value string }
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &st))
	require.Equal(t, "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15", st.URL)
	require.Equal(t, "POST", st.Method)
	req, err := http.NewRequest(st.Method, st.URL, nil)
	require.NoError(t, err)
	keys := map[string]string{}
	for _, h := range st.Headers {
		keys[h.Key] = h.Value
		if h.Key == "host" {
			req.Host = h.Value
			continue
		}
		req.Header.Set(h.Key, h.Value)
	}
	require.Equal(t, target, keys["x-goog-cloud-target-resource"])
	require.Equal(t, "caller-session", keys["x-amz-security-token"])
	require.Contains(t, keys["authorization"], "x-goog-cloud-target-resource", "the target resource is signed")
	verify(t, req, "us-east-1")
}

func TestVaultLoginData(t *testing.T) {
	d, err := awscred.VaultLoginData(context.Background(), testCreds, "vault.example.com")
	require.NoError(t, err)
	require.Equal(t, "POST", d["iam_http_request_method"])
	dec := func(k string) []byte {
		b, err := base64.StdEncoding.DecodeString(d[k])
		require.NoError(t, err, k)
		return b
	}
	require.Equal(t, "https://sts.amazonaws.com/", string(dec("iam_request_url")))
	require.Equal(t, "Action=GetCallerIdentity&Version=2011-06-15", string(dec("iam_request_body")))
	var hs http.Header
	require.NoError(t, json.Unmarshal(dec("iam_request_headers"), &hs))
	require.Equal(t, "vault.example.com", hs.Get("X-Vault-Aws-Iam-Server-Id"))
	require.Contains(t, hs.Get("Authorization"), "x-vault-aws-iam-server-id")

	req, err := http.NewRequest("POST", string(dec("iam_request_url")), bytes.NewReader(dec("iam_request_body")))
	require.NoError(t, err)
	req.Header = hs
	verify(t, req, "us-east-1")
}

// Bad input to the token builders is refused with an error naming it.
func TestCallerTokenBadInput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		build   func() error
		wantErr string
	}{
		{name: "target with CR LF", wantErr: "CR or LF", build: func() error {
			_, err := awscred.GCPSubjectToken(context.Background(), testCreds, "us-east-1", "//iam.googleapis.com/x\r\nX-Evil: 1")
			return err
		}},
		{name: "vault server id with LF", wantErr: "CR or LF", build: func() error {
			_, err := awscred.VaultLoginData(context.Background(), testCreds, "vault\nx")
			return err
		}},
		{name: "no region", wantErr: "needs a region", build: func() error {
			_, err := awscred.GCPSubjectToken(context.Background(), testCreds, "", "//iam.googleapis.com/x")
			return err
		}},
		{name: "no keys", wantErr: "access key", build: func() error {
			_, err := awscred.GCPSubjectToken(context.Background(), sigv4.StaticCredentials{}, "us-east-1", "//iam.googleapis.com/x")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.build()
			require.ErrorContains(t, err, tc.wantErr)
			require.NotContains(t, err.Error(), "caller-secret")
		})
	}
}
