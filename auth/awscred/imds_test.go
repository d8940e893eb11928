package awscred_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scriptedIMDS answers the token PUT with a fixed token, and fails the
// first `fail` GETs of the credentials path with 500.
type scriptedIMDS struct {
	mu       sync.Mutex
	puts     int
	gets     int
	fail     int
	ttlAsked string
}

func (f *scriptedIMDS) start(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case r.Method == http.MethodPut:
			f.puts++
			f.ttlAsked = r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds")
			fmt.Fprint(w, "tok")
		case r.Header.Get("X-aws-ec2-metadata-token") != "tok":
			http.Error(w, "no token", http.StatusUnauthorized)
		case strings.HasSuffix(r.URL.Path, "/security-credentials/"):
			fmt.Fprint(w, "role")
		default:
			f.gets++
			if f.gets <= f.fail {
				http.Error(w, "busy", http.StatusInternalServerError)
				return
			}
			fmt.Fprintf(w, `{"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"s","Token":"t","Expiration":%q}`, time.Now().Add(30*time.Minute).UTC().Format(time.RFC3339))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestIMDSTokenKeptAndRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fail     int
		wantErr  string
		wantGets int
	}{
		{name: "no failure", fail: 0, wantGets: 1},
		{name: "two 500s then success", fail: 2, wantGets: 3},
		{name: "three 500s", fail: 3, wantErr: "status 500", wantGets: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &scriptedIMDS{fail: tc.fail}
			e := newEnv(t)
			delete(e, "AWS_EC2_METADATA_DISABLED")
			e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = f.start(t)
			c, err := chain(t, e)
			require.NoError(t, err)
			_, err = c.Retrieve(context.Background())
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			f.mu.Lock()
			require.Equal(t, tc.wantGets, f.gets, "attempts on the credentials path")
			require.Equal(t, "21600", f.ttlAsked)
			f.mu.Unlock()
			if tc.wantErr != "" {
				return
			}
			// Two more refreshes reuse the token: still one PUT.
			for range 2 {
				c.Invalidate()
				_, err = c.Retrieve(context.Background())
				require.NoError(t, err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			require.Equal(t, 1, f.puts, "the token is kept for its TTL")
		})
	}
}
