package awscred_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/awscred"
	"github.com/anyblob/anyblob/auth/sigv4"
)

// skewedSTS is an STS whose clock is off by offset: it checks signatures
// with the verifier at its own time and refuses stale ones with code and
// its Date header, as STS does.
func skewedSTS(t *testing.T, offset time.Duration, code string) (string, func() int) {
	var mu sync.Mutex
	calls := 0
	v := &sigv4.Verifier{Service: "sts", Region: "us-east-1", MaxSkew: 5 * time.Minute,
		Now: func() time.Time { return time.Now().Add(offset) },
		Credentials: func(_ context.Context, id string) (sigv4.Credentials, error) {
			return sigv4.Credentials{AccessKeyID: id, SecretAccessKey: "base-secret"}, nil
		}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.Header().Set("Date", time.Now().Add(offset).UTC().Format(http.TimeFormat))
		if _, err := v.Verify(r); err != nil {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>Signature expired</Message></Error><RequestId>r1</RequestId></ErrorResponse>`, code)
			return
		}
		fmt.Fprintf(w, `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIASKEW</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`,
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() int { mu.Lock(); defer mu.Unlock(); return calls }
}

func TestSTSClockSkew(t *testing.T) {
	base := sigv4.StaticCredentials{AccessKeyID: "AKIABASE", SecretAccessKey: "base-secret"}
	for _, tc := range []struct {
		name      string
		offset    time.Duration
		code      string
		wantErr   string
		wantCalls []int // calls after the first and the second Retrieve
	}{
		{name: "an hour ahead: signed again, offset kept", offset: time.Hour, code: "SignatureDoesNotMatch", wantCalls: []int{2, 3}},
		{name: "an hour behind", offset: -time.Hour, code: "RequestExpired", wantCalls: []int{2, 3}},
		{name: "in step", offset: 0, code: "SignatureDoesNotMatch", wantCalls: []int{1, 2}},
		{name: "other code is not retried", offset: time.Hour, code: "AccessDenied", wantErr: "AccessDenied", wantCalls: []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep, calls := skewedSTS(t, tc.offset, tc.code)
			role, err := awscred.AssumeRole(base, awscred.AssumeRoleOptions{RoleARN: "arn:aws:iam::1:role/r", Endpoint: ep, AllowHTTP: true})
			require.NoError(t, err)
			creds, err := role.Retrieve(context.Background())
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.Equal(t, tc.wantCalls[0], calls())
				return
			}
			require.NoError(t, err)
			require.Equal(t, "ASIASKEW", creds.AccessKeyID)
			require.Equal(t, tc.wantCalls[0], calls())
			role.Invalidate()
			_, err = role.Retrieve(context.Background())
			require.NoError(t, err)
			require.Equal(t, tc.wantCalls[1], calls(), "the learned offset is used at once")
		})
	}
}
