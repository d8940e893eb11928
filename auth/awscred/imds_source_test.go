package awscred

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// imdsFake is a loopback instance metadata service. The token PUT answers
// tokenStatus (200: "tok-N" for the Nth PUT); the GETs answer statuses in
// turn, then 200: the role list, or the credentials with expiration.
type imdsFake struct {
	tokenStatus int
	statuses    []int
	roles       string
	expiration  string

	mu     sync.Mutex
	puts   int
	tokens []string // the token each GET carried
}

func (f *imdsFake) start(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
			f.puts++
			if f.tokenStatus != http.StatusOK {
				http.Error(w, "no", f.tokenStatus)
				return
			}
			fmt.Fprintf(w, "tok-%d\n", f.puts)
			return
		}
		f.tokens = append(f.tokens, r.Header.Get("X-aws-ec2-metadata-token"))
		if len(f.statuses) > 0 {
			status := f.statuses[0]
			f.statuses = f.statuses[1:]
			if status != http.StatusOK {
				http.Error(w, "scripted", status)
				return
			}
		}
		switch r.URL.Path {
		case "/latest/meta-data/iam/security-credentials/":
			fmt.Fprint(w, f.roles)
		case "/latest/meta-data/iam/security-credentials/role-a":
			fmt.Fprintf(w, `{"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"s","Token":"t","Expiration":%q}`, f.expiration)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (f *imdsFake) counts() (puts int, tokens []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.puts, append([]string(nil), f.tokens...)
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var imdsEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestIMDSEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		profile profile
		want    string
	}{
		{name: "default is IPv4", want: "http://169.254.169.254"},
		{name: "environment endpoint", env: map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1/"}, want: "http://127.0.0.1:1/"},
		{name: "profile endpoint", profile: profile{"ec2_metadata_service_endpoint": "http://127.0.0.1:2"}, want: "http://127.0.0.1:2"},
		{name: "environment beats profile",
			env:     map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1"},
			profile: profile{"ec2_metadata_service_endpoint": "http://127.0.0.1:2"}, want: "http://127.0.0.1:1"},
		{name: "IPv6 mode from the environment", env: map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "ipv6"}, want: "http://[fd00:ec2::254]"},
		{name: "IPv6 mode from the profile", profile: profile{"ec2_metadata_service_endpoint_mode": "IPv6"}, want: "http://[fd00:ec2::254]"},
		{name: "environment mode beats profile mode",
			env:     map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv4"},
			profile: profile{"ec2_metadata_service_endpoint_mode": "IPv6"}, want: "http://169.254.169.254"},
		{name: "an endpoint beats the mode",
			env: map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"}, want: "http://127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			require.Equal(t, tc.want, imdsEndpoint(getenv, tc.profile))
		})
	}
}

func TestIMDSSessionToken(t *testing.T) {
	for _, tc := range []struct {
		name        string
		tokenStatus int
		v1Disabled  bool
		want        string
		wantErr     string
	}{
		{name: "token", tokenStatus: 200, want: "tok-1"},
		{name: "403 falls back to v1", tokenStatus: 403, want: ""},
		{name: "404 falls back to v1", tokenStatus: 404, want: ""},
		{name: "405 falls back to v1", tokenStatus: 405, want: ""},
		{name: "403 with v1 disabled", tokenStatus: 403, v1Disabled: true, wantErr: "IMDSv1 is disabled"},
		{name: "400 is an error", tokenStatus: 400, wantErr: "token PUT answered 400"},
		{name: "400 with v1 disabled", tokenStatus: 400, v1Disabled: true, wantErr: "token PUT answered 400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &imdsFake{tokenStatus: tc.tokenStatus}
			s := newIMDSSource(f.start(t), tc.v1Disabled, (&fakeClock{t: imdsEpoch}).now)
			got, err := s.sessionToken(context.Background())
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestIMDSSessionTokenUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now: the PUT is refused
	for _, tc := range []struct {
		name       string
		v1Disabled bool
		wantErr    string
	}{
		{name: "falls back to v1"},
		{name: "v1 disabled", v1Disabled: true, wantErr: "IMDSv1 is disabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newIMDSSource(url, tc.v1Disabled, time.Now)
			got, err := s.sessionToken(context.Background())
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Empty(t, got)
		})
	}
}

func TestIMDSTokenKeptForItsTTL(t *testing.T) {
	f := &imdsFake{tokenStatus: 200}
	clock := &fakeClock{t: imdsEpoch}
	s := newIMDSSource(f.start(t), false, clock.now)
	ctx := context.Background()
	for _, step := range []struct {
		name    string
		advance time.Duration
		fresh   bool
		want    string
	}{
		{name: "first PUT", want: "tok-1"},
		{name: "kept", advance: time.Hour, want: "tok-1"},
		{name: "fresh asks again", fresh: true, want: "tok-2"},
		{name: "kept until a minute before the TTL", advance: imdsTokenTTL - 2*time.Minute, want: "tok-2"},
		{name: "then asked again", advance: time.Minute, want: "tok-3"},
	} {
		clock.add(step.advance)
		got, err := s.token(ctx, step.fresh)
		require.NoError(t, err, step.name)
		require.Equal(t, step.want, got, step.name)
	}
}

func TestIMDSGet(t *testing.T) {
	const path = "/latest/meta-data/iam/security-credentials/"
	for _, tc := range []struct {
		name       string
		statuses   []int
		token      string
		wantErr    string
		wantTokens []string // the token of each GET sent
		wantPuts   int
	}{
		{name: "ok", token: "tok-0", wantTokens: []string{"tok-0"}},
		{name: "two 500s then ok", statuses: []int{500, 503}, wantTokens: []string{"", "", ""}},
		{name: "three 500s", statuses: []int{500, 500, 500}, wantErr: "status 500", wantTokens: []string{"", "", ""}},
		{name: "404 is not retried", statuses: []int{404}, wantErr: "status 404", wantTokens: []string{""}},
		{name: "401 gets a new token once", statuses: []int{401}, token: "old", wantTokens: []string{"old", "tok-1"}, wantPuts: 1},
		{name: "a second 401 is an error", statuses: []int{401, 401}, token: "old", wantErr: "status 401", wantTokens: []string{"old", "tok-1"}, wantPuts: 1},
		{name: "401 without a token is an error", statuses: []int{401}, wantErr: "status 401", wantTokens: []string{""}},
		{name: "401 does not use up an attempt", statuses: []int{401, 500, 500}, token: "old", wantTokens: []string{"old", "tok-1", "tok-1", "tok-1"}, wantPuts: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &imdsFake{tokenStatus: 200, statuses: tc.statuses, roles: "role-a"}
			s := newIMDSSource(f.start(t), false, (&fakeClock{t: imdsEpoch}).now)
			token := tc.token
			body, err := s.get(context.Background(), path, &token)
			puts, tokens := f.counts()
			require.Equal(t, tc.wantTokens, tokens)
			require.Equal(t, tc.wantPuts, puts)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "role-a", string(body))
			if tc.wantPuts > 0 {
				require.Equal(t, "tok-1", token, "the new token is handed back")
			}
		})
	}
}

func TestIMDSRole(t *testing.T) {
	for _, tc := range []struct {
		name, roles, want, wantErr string
	}{
		{name: "one role", roles: "role-a", want: "role-a"},
		{name: "the first of two", roles: "role-a\nrole-b", want: "role-a"},
		{name: "spaces trimmed", roles: "  role-a \r\nrole-b", want: "role-a"},
		{name: "no role", roles: "", wantErr: "no IAM role"},
		{name: "blank line", roles: " \nrole-b", wantErr: "no IAM role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &imdsFake{tokenStatus: 200, roles: tc.roles}
			s := newIMDSSource(f.start(t), false, time.Now)
			token := ""
			got, err := s.role(context.Background(), &token)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestIMDSFetchCapsExpiry(t *testing.T) {
	for _, tc := range []struct {
		name       string
		expiration string
		want       time.Time
	}{
		{name: "later than an hour: capped", expiration: "2099-01-01T00:00:00Z", want: imdsEpoch.Add(time.Hour)},
		{name: "none: an hour", expiration: "", want: imdsEpoch.Add(time.Hour)},
		{name: "sooner: kept", expiration: imdsEpoch.Add(10 * time.Minute).Format(time.RFC3339), want: imdsEpoch.Add(10 * time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &imdsFake{tokenStatus: 200, roles: "role-a", expiration: tc.expiration}
			s := newIMDSSource(f.start(t), false, (&fakeClock{t: imdsEpoch}).now)
			c, err := s.fetch(context.Background())
			require.NoError(t, err)
			require.Equal(t, "ASIAIMDS", c.AccessKeyID)
			require.Equal(t, "imds", c.Source)
			require.True(t, tc.want.Equal(c.Expires), "expires %v, want %v", c.Expires, tc.want)
			_, tokens := f.counts()
			require.Equal(t, []string{"tok-1", "tok-1"}, tokens, "both GETs carry the token")
		})
	}
}

func TestIMDSRetrieveKeepsTheLastCredentials(t *testing.T) {
	f := &imdsFake{tokenStatus: 200, roles: "role-a"}
	clock := &fakeClock{t: imdsEpoch}
	s := newIMDSSource(f.start(t), false, clock.now)

	_, err := newIMDSSource(f.start(t), false, clock.now).retrieve(canceled())
	require.Error(t, err, "nothing handed out before: the error")

	first, err := s.retrieve(context.Background())
	require.NoError(t, err)

	f.mu.Lock()
	f.statuses = []int{500, 500, 500}
	f.mu.Unlock()
	clock.add(2 * time.Hour)
	kept, err := s.retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, first.AccessKeyID, kept.AccessKeyID)
	left := kept.Expires.Sub(clock.now())
	require.True(t, left >= 5*time.Minute && left < 15*time.Minute, "extended by 5 to 15 minutes, got %v", left)

	f.mu.Lock()
	f.statuses = []int{500, 500, 500}
	f.mu.Unlock()
	_, err = s.retrieve(canceled())
	require.Error(t, err, "not when the caller has left")
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
