package awscred_test

import (
	"context"
	"fmt"
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
)

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
