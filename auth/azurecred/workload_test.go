package azurecred_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/azurecred"
)

// TestWorkloadIdentity exchanges a federated token file for a token at a
// loopback Microsoft Entra fake (https, as azidentity requires of
// AZURE_AUTHORITY_HOST), which checks the assertion is the file's content.
func TestWorkloadIdentity(t *testing.T) {
	isolate(t)
	const tenant = "11111111-2222-3333-4444-555555555555"
	tokenFile := filepath.Join(t.TempDir(), "federated")
	require.NoError(t, os.WriteFile(tokenFile, []byte("k8s-service-account-jwt"), 0o600))
	var grants atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/" + tenant + "/v2.0/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"token_endpoint":"%[1]s/%[2]s/oauth2/v2.0/token","authorization_endpoint":"%[1]s/%[2]s/oauth2/v2.0/authorize","issuer":"%[1]s/%[2]s/v2.0"}`, srv.URL, tenant)
		case "/" + tenant + "/oauth2/v2.0/token":
			if err := r.ParseForm(); err != nil || r.PostForm.Get("client_assertion") != "k8s-service-account-jwt" || r.PostForm.Get("client_id") != "wi-client" {
				http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
				return
			}
			grants.Add(1)
			fmt.Fprint(w, `{"access_token":"wi-token","expires_in":3600,"token_type":"Bearer"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	t.Setenv("AZURE_AUTHORITY_HOST", srv.URL)
	t.Setenv("AZURE_TENANT_ID", tenant)
	t.Setenv("AZURE_CLIENT_ID", "wi-client")
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", tokenFile)

	c, err := azurecred.NewChain(&azurecred.Options{
		ClientOptions:            azcore.ClientOptions{Transport: srv.Client()},
		DisableInstanceDiscovery: true, DisableManagedIdentity: true, DisableCLI: true,
	})
	require.NoError(t, err)
	tok, err := c.GetToken(context.Background(), storageScope)
	require.NoError(t, err)
	require.Equal(t, "wi-token", tok.Token)
	require.Equal(t, int64(1), grants.Load())
	require.Equal(t, auth.Used, c.Report().Attempts[1].Outcome)
	require.Equal(t, "workload identity", c.Report().Attempts[1].Source)
}
