package azurecred_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/azurecred"
)

// isolate clears every variable the Azure sources read.
func isolate(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
		"AZURE_USERNAME", "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
		"IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT"} {
		t.Setenv(k, "")
	}
}

var storageScope = policy.TokenRequestOptions{Scopes: []string{"https://storage.azure.com/.default"}}

func TestManagedIdentityFromAppServiceEndpoint(t *testing.T) {
	isolate(t)
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-IDENTITY-HEADER") != "hdr" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		calls.Add(1)
		require.Equal(t, "https://storage.azure.com", r.URL.Query().Get("resource"))
		fmt.Fprintf(w, `{"access_token":"mi-token","expires_on":"%d","resource":"https://storage.azure.com","token_type":"Bearer"}`, time.Now().Add(time.Hour).Unix())
	}))
	defer srv.Close()
	t.Setenv("IDENTITY_ENDPOINT", srv.URL)
	t.Setenv("IDENTITY_HEADER", "hdr")

	c, err := azurecred.NewChain(&azurecred.Options{DisableCLI: true})
	require.NoError(t, err)
	tok, err := c.GetToken(context.Background(), storageScope)
	require.NoError(t, err)
	require.Equal(t, "mi-token", tok.Token)
	rep := c.Report()
	require.Equal(t, "azure", rep.Chain)
	require.Len(t, rep.Attempts, 3)
	require.Equal(t, auth.Skipped, rep.Attempts[0].Outcome, "environment")
	require.Equal(t, auth.Skipped, rep.Attempts[1].Outcome, "workload identity")
	require.Equal(t, auth.Used, rep.Attempts[2].Outcome, "managed identity")

	_, err = c.GetToken(context.Background(), storageScope)
	require.NoError(t, err)
	require.Equal(t, int64(1), calls.Load(), "the chosen source caches its token")
}

func TestNothingConfigured(t *testing.T) {
	isolate(t)
	c, err := azurecred.NewChain(&azurecred.Options{DisableManagedIdentity: true, DisableCLI: true})
	require.NoError(t, err)
	_, err = c.GetToken(context.Background(), storageScope)
	var nce *auth.NoCredentialsError
	require.True(t, errors.As(err, &nce), "never anonymous: %v", err)
	msg := err.Error()
	require.Contains(t, msg, "environment: skipped")
	require.Contains(t, msg, "workload identity: skipped")
	require.Contains(t, msg, "managed identity: skipped (disabled)")
	require.Contains(t, msg, "azure cli: skipped (disabled)")
}

func TestFailuresAreReportedWithoutSecrets(t *testing.T) {
	isolate(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"unavailable"}`, http.StatusBadRequest)
	}))
	defer srv.Close()
	t.Setenv("IDENTITY_ENDPOINT", srv.URL)
	t.Setenv("IDENTITY_HEADER", "TOPSECRET-HEADER")
	c, err := azurecred.NewChain(&azurecred.Options{DisableCLI: true})
	require.NoError(t, err)
	// Another scope than the other tests: azidentity caches managed
	// identity tokens for the whole process.
	_, err = c.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "managed identity: failed")
	require.NotContains(t, err.Error(), "TOPSECRET")
}
