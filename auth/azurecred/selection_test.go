package azurecred_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/azurecred"
)

// TestTokenCredentialsNarrowsTheChain sets AZURE_TOKEN_CREDENTIALS as
// azidentity's DefaultAzureCredential reads it, with a managed identity
// endpoint that would answer, and checks which sources the chain keeps,
// uses, and reports as excluded.
func TestTokenCredentialsNarrowsTheChain(t *testing.T) {
	isolate(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "hdr", r.Header.Get("X-IDENTITY-HEADER"))
		fmt.Fprintf(w, `{"access_token":"mi-token","expires_on":"%d","resource":"https://storage.azure.com","token_type":"Bearer"}`, time.Now().Add(time.Hour).Unix())
	}))
	defer srv.Close()
	t.Setenv("IDENTITY_ENDPOINT", srv.URL)
	t.Setenv("IDENTITY_HEADER", "hdr")
	env := func(v string) func(string) string {
		return func(k string) string {
			switch k {
			case "AZURE_TOKEN_CREDENTIALS":
				return v
			case "IDENTITY_ENDPOINT":
				return srv.URL
			}
			return ""
		}
	}
	all := []string{"environment", "workload identity", "managed identity", "azure cli", "azure developer cli", "azure powershell"}
	for _, tt := range []struct {
		value string
		kept  []string
		used  bool // the managed identity answers
	}{
		{"prod", []string{"environment", "workload identity", "managed identity"}, true},
		{"ManagedIdentityCredential", []string{"managed identity"}, true},
		{"managedidentitycredential", []string{"managed identity"}, true},
		{"EnvironmentCredential", []string{"environment"}, false},
		{"dev", []string{"azure cli", "azure developer cli", "azure powershell"}, false},
		{"AzureCLICredential", []string{"azure cli"}, false},
	} {
		t.Run(tt.value, func(t *testing.T) {
			c, err := azurecred.NewChain(&azurecred.Options{Getenv: env(tt.value), DisableCLI: !strings.Contains(strings.ToLower(tt.value), "cli") && tt.value != "dev"})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = c.GetToken(ctx, storageScope)
			if tt.used {
				require.NoError(t, err)
			} else {
				var nce *auth.NoCredentialsError
				require.True(t, errors.As(err, &nce), "%v", err)
			}
			rep := c.Report()
			for _, a := range rep.Attempts {
				excluded := a.Outcome == auth.Skipped && strings.Contains(a.Reason, "excluded by AZURE_TOKEN_CREDENTIALS="+tt.value)
				kept := false
				for _, k := range tt.kept {
					kept = kept || k == a.Source
				}
				require.Equal(t, !kept, excluded, "%s: %+v", a.Source, a)
			}
			if !tt.used {
				require.Len(t, rep.Attempts, len(all), "every source reported")
			}
		})
	}
}

func TestTokenCredentialsRefusesUnknownValues(t *testing.T) {
	isolate(t)
	_, err := azurecred.NewChain(&azurecred.Options{Getenv: func(k string) string {
		if k == "AZURE_TOKEN_CREDENTIALS" {
			return "production"
		}
		return ""
	}})
	require.ErrorContains(t, err, `AZURE_TOKEN_CREDENTIALS="production" is not valid`)
	require.ErrorContains(t, err, "use dev, prod, or one of EnvironmentCredential")
	_, err = azurecred.NewChain(&azurecred.Options{Getenv: func(k string) string {
		if k == "AZURE_TOKEN_CREDENTIALS" {
			return "PROD"
		}
		return ""
	}})
	require.Error(t, err, "dev and prod in lower case only, as azidentity reads them")
}
