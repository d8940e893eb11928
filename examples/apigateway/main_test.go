package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
)

// TestSignedCall runs the example against a fake API that checks SigV4
// with the verifier's middleware, as API Gateway's IAM authorizer does.
func TestSignedCall(t *testing.T) {
	v := &sigv4.Verifier{Service: "execute-api", Region: "eu-west-1", Credentials: func(_ context.Context, id string) (sigv4.Credentials, error) {
		if id != "AKIAAPI" {
			return sigv4.Credentials{}, fmt.Errorf("unknown key")
		}
		return sigv4.Credentials{AccessKeyID: id, SecretAccessKey: "api-secret", Source: "test"}, nil
	}}
	api := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"items":[]}`)
	})))
	defer api.Close()
	env := map[string]string{"HOME": t.TempDir(), "AWS_ACCESS_KEY_ID": "AKIAAPI", "AWS_SECRET_ACCESS_KEY": "api-secret", "AWS_EC2_METADATA_DISABLED": "true"}
	get := func(k string) string { return env[k] }

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-region", "eu-west-1", api.URL + "/prod/items"}, get, &out))
	require.Equal(t, "200 OK\n{\"items\":[]}", out.String())

	env["AWS_SECRET_ACCESS_KEY"] = "wrong"
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"-region", "eu-west-1", api.URL + "/prod/items"}, get, &out))
	require.Contains(t, out.String(), "403 Forbidden")
	require.Contains(t, out.String(), "SignatureDoesNotMatch")
}

func TestRegionFromHost(t *testing.T) {
	require.Equal(t, "eu-west-1", regionFromHost("https://abc123.execute-api.eu-west-1.amazonaws.com/prod"))
	require.Equal(t, "", regionFromHost("https://example.com/x"))
}
