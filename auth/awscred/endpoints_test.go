package awscred

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// isolated is an environment with nothing of the user's: no files, no
// keys; only what a test adds.
func isolated(t *testing.T, add map[string]string) func(string) string {
	dir := t.TempDir()
	e := map[string]string{
		"HOME": dir, "AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
	}
	for k, v := range add {
		e[k] = v
	}
	return func(k string) string { return e[k] }
}

// TestContainerRelativeURIEndToEnd resolves the chain with only
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and a token set, as on ECS, with
// the agent's fixed address pointed at a loopback fake that checks the
// path and the Authorization header it receives.
func TestContainerRelativeURIEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path != "/v2/credentials/task-1" || r.Header.Get("Authorization") != "task-token" {
			http.Error(w, `{"code":"Forbidden"}`, http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, `{"AccessKeyId":"ASIAECS","SecretAccessKey":"ecs-secret","Token":"ecs-session","Expiration":%q}`,
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	defer srv.Close()
	saved := ecsEndpoint
	ecsEndpoint.base, ecsEndpoint.dial = srv.URL, strings.TrimPrefix(srv.URL, "http://")
	defer func() { ecsEndpoint = saved }()

	c, err := NewChain(&Options{Getenv: isolated(t, map[string]string{
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/task-1",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN":      "task-token",
	})})
	require.NoError(t, err)
	creds, err := c.Retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, "ASIAECS", creds.AccessKeyID)
	require.Equal(t, "ecs-session", creds.SessionToken)
	used, _ := c.Report().Used()
	require.Equal(t, "container", used.Source)
	require.Equal(t, []string{"GET /v2/credentials/task-1 auth=task-token"}, got)
	require.NotContains(t, c.Report().String(), "ecs-secret")
}

// TestIMDSOverIPv6 resolves the chain from an IMDS fake listening on the
// IPv6 loopback, named by AWS_EC2_METADATA_SERVICE_ENDPOINT as an IPv6
// literal, and checks the IMDSv2 token exchange it receives.
func TestIMDSOverIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	require.NoError(t, err, "this machine has an IPv6 loopback")
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" host="+r.Host)
		mu.Unlock()
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			require.NotEmpty(t, r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
			fmt.Fprint(w, "v6-token")
		case r.Header.Get("X-aws-ec2-metadata-token") != "v6-token":
			http.Error(w, "", http.StatusUnauthorized)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			fmt.Fprint(w, "web-role")
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/web-role":
			fmt.Fprintf(w, `{"Code":"Success","AccessKeyId":"ASIAV6","SecretAccessKey":"v6-secret","Token":"v6-session","Expiration":%q}`,
				time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	require.True(t, strings.HasPrefix(srv.URL, "http://[::1]:"), srv.URL)

	c, err := NewChain(&Options{AllowHTTP: true, Getenv: isolated(t, map[string]string{
		"AWS_EC2_METADATA_DISABLED":         "",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT": srv.URL,
	})})
	require.NoError(t, err)
	creds, err := c.Retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, "ASIAV6", creds.AccessKeyID)
	used, _ := c.Report().Used()
	require.Equal(t, "imds", used.Source)
	host := strings.TrimPrefix(srv.URL, "http://")
	require.Contains(t, seen, "PUT /latest/api/token host="+host)
	require.Contains(t, seen, "GET /latest/meta-data/iam/security-credentials/web-role host="+host)

	// The IPv6 mode alone names the documented IPv6 address.
	require.Equal(t, "http://[fd00:ec2::254]", imdsEndpoint(func(k string) string {
		return map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"}[k]
	}, nil))
}
