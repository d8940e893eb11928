package gcpcred_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/gcpcred"
	"github.com/anyblob/anyblob/internal/events"
	"github.com/anyblob/anyblob/internal/gcpfake"
)

// isolate gives the test an empty HOME and no Google variables, and points
// the metadata client at an address where nothing answers, so nothing can
// reach a real metadata server.
func isolate(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("CLOUDSDK_CONFIG", "")
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	return home
}

func TestMetadataServer(t *testing.T) {
	isolate(t)
	md := gcpfake.NewMetadata(t, "md-token")
	t.Setenv("GCE_METADATA_HOST", md.Host)
	creds, rep, err := gcpcred.Find(context.Background(), nil)
	require.NoError(t, err)
	tok, err := creds.TokenSource.Token()
	require.NoError(t, err)
	require.Equal(t, "md-token", tok.AccessToken)
	used, ok := rep.Used()
	require.True(t, ok)
	require.Equal(t, "metadata server", used.Source)
	require.Equal(t, auth.Skipped, rep.Attempts[0].Outcome)
	require.Equal(t, auth.Skipped, rep.Attempts[1].Outcome)
}

func TestServiceAccountKeyFile(t *testing.T) {
	isolate(t)
	sa, te := gcpfake.NewServiceAccount(t, "sa-token")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", sa.File)
	creds, rep, err := gcpcred.Find(context.Background(), nil)
	require.NoError(t, err)
	tok, err := creds.TokenSource.Token()
	require.NoError(t, err)
	require.Equal(t, "sa-token", tok.AccessToken)
	require.Equal(t, int64(1), te.Grants.Load(), "one signed JWT grant, checked by the fake")
	used, _ := rep.Used()
	require.Equal(t, "GOOGLE_APPLICATION_CREDENTIALS", used.Source)
	require.Contains(t, used.Reason, "service_account")
	require.Len(t, rep.Attempts, 1, "the first source that applies ends the chain")
}

func TestWellKnownFile(t *testing.T) {
	home := isolate(t)
	sa, _ := gcpfake.NewServiceAccount(t, "wk-token")
	dir := filepath.Join(home, ".config", "gcloud")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	data, err := os.ReadFile(sa.File)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "application_default_credentials.json"), data, 0o600))
	creds, rep, err := gcpcred.Find(context.Background(), &gcpcred.Options{DisableMetadata: true})
	require.NoError(t, err)
	tok, err := creds.TokenSource.Token()
	require.NoError(t, err)
	require.Equal(t, "wk-token", tok.AccessToken)
	used, _ := rep.Used()
	require.Equal(t, "gcloud well-known file", used.Source)
}

func TestNothingFound(t *testing.T) {
	isolate(t)
	_, rep, err := gcpcred.Find(context.Background(), &gcpcred.Options{DisableMetadata: true})
	var nce *auth.NoCredentialsError
	require.True(t, errors.As(err, &nce), "never anonymous: %v", err)
	require.Len(t, rep.Attempts, 3)
	msg := err.Error()
	require.Contains(t, msg, "GOOGLE_APPLICATION_CREDENTIALS: skipped (not set)")
	require.Contains(t, msg, "application_default_credentials.json does not exist")
	require.Contains(t, msg, "metadata server: skipped (disabled)")
}

func TestBadFiles(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	secret := `-----BEGIN PRIVATE KEY-----\nTOPSECRET\n-----END PRIVATE KEY-----`
	tests := []struct {
		name, content, want string
	}{
		{"not JSON", "TOPSECRET not json", "is not JSON"},
		{"unknown type", `{"type":"api_key","key":"TOPSECRET"}`, `type "api_key"`},
		{"broken key", `{"type":"service_account","client_email":"a@b","private_key":"` + secret + `","token_uri":"http://127.0.0.1:1/t"}`, "private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".json")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", path)
			creds, _, err := gcpcred.Find(context.Background(), nil)
			if err == nil {
				// oauth2 parses keys lazily: the failure comes with the token.
				_, err = creds.TokenSource.Token()
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.NotContains(t, err.Error(), "TOPSECRET", "secrets never appear in errors")
		})
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(dir, "missing.json"))
	_, rep, err := gcpcred.Find(context.Background(), nil)
	require.ErrorIs(t, err, os.ErrNotExist, "a set but missing file is an error, not a reason to go on")
	require.Len(t, rep.Attempts, 1)
}

// TestSourceChoiceIsAnEvent: Find tells a context's listeners which source
// it picked and why the others were passed over, without the token; a
// failed search tells nothing (its error says it all).
func TestSourceChoiceIsAnEvent(t *testing.T) {
	isolate(t)
	md := gcpfake.NewMetadata(t, "md-token-SECRET")
	t.Setenv("GCE_METADATA_HOST", md.Host)
	var heard []events.Event
	ctx := events.With(context.Background(), func(_ context.Context, e events.Event) { heard = append(heard, e) })
	creds, _, err := gcpcred.Find(ctx, nil)
	require.NoError(t, err)
	_, err = creds.TokenSource.Token()
	require.NoError(t, err)
	require.Len(t, heard, 1)
	require.Equal(t, events.CredentialsSource, heard[0].Kind)
	require.Contains(t, heard[0].Detail, "metadata server: used")
	require.Contains(t, heard[0].Detail, "GOOGLE_APPLICATION_CREDENTIALS: skipped (not set)")
	require.NotContains(t, heard[0].Detail, "SECRET")

	heard = nil
	_, _, err = gcpcred.Find(ctx, &gcpcred.Options{DisableMetadata: true})
	require.Error(t, err)
	require.Empty(t, heard)
}
