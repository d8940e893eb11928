package awscred_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/awscred"
)

const mfaConfig = `[profile base]
aws_access_key_id = AKIABASE
aws_secret_access_key = base-secret

[profile mfa]
role_arn = arn:aws:iam::1:role/mfa
source_profile = base
mfa_serial = arn:aws:iam::1:mfa/me
duration_seconds = 3600
region = us-east-1

[profile outer]
role_arn = arn:aws:iam::1:role/outer
source_profile = mfa
region = us-east-1
`

// codes is an MFATokenCode that counts its calls.
type codes struct {
	mu      sync.Mutex
	serials []string
	err     error
}

func (c *codes) code(_ context.Context, serial string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.serials = append(c.serials, serial)
	return " 123456\n", c.err
}

func (c *codes) asked() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.serials...)
}

func mfaChain(t *testing.T, profile string, c *codes) (*awscred.Chain, *fakeSTS) {
	e := newEnv(t)
	sts := newSTS(t)
	e.write(t, "config", mfaConfig)
	e["AWS_PROFILE"], e["AWS_ENDPOINT_URL_STS"] = profile, sts.URL
	opts := &awscred.Options{Getenv: e.get, AllowHTTP: true}
	if c != nil {
		opts.MFATokenCode = c.code
	}
	ch, err := awscred.NewChain(opts)
	require.NoError(t, err)
	return ch, sts
}

// TestMFARole: the code is asked once, sent with the serial, and the
// session is reused by the next Retrieve.
func TestMFARole(t *testing.T) {
	c := &codes{}
	ch, sts := mfaChain(t, "mfa", c)
	creds, err := ch.Retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, "ASIA1", creds.AccessKeyID)
	_, err = ch.Retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, []string{"arn:aws:iam::1:mfa/me"}, c.asked(), "asked once across two Retrieve calls")

	calls := sts.recorded()
	require.Len(t, calls, 1)
	require.Equal(t, "AKIABASE", calls[0].SignedBy)
	require.Equal(t, "arn:aws:iam::1:mfa/me", calls[0].Form["SerialNumber"])
	require.Equal(t, "123456", calls[0].Form["TokenCode"], "trimmed")
	require.Equal(t, "3600", calls[0].Form["DurationSeconds"])
	used, _ := ch.Report().Used()
	require.Equal(t, "static keys, then assume role arn:aws:iam::1:role/mfa with MFA device arn:aws:iam::1:mfa/me", used.Reason)
}

// TestMFAInnerHop: an MFA role that is the source of another keeps its
// session when the outer role is assumed again: no second code.
func TestMFAInnerHop(t *testing.T) {
	c := &codes{}
	ch, sts := mfaChain(t, "outer", c)
	_, err := ch.Retrieve(context.Background())
	require.NoError(t, err)
	ch.Invalidate()
	creds, err := ch.Retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, "ASIA3", creds.AccessKeyID)
	require.Len(t, c.asked(), 1)
	calls := sts.recorded()
	require.Len(t, calls, 3, "inner with MFA once, outer twice")
	require.Equal(t, "123456", calls[0].Form["TokenCode"])
	require.Empty(t, calls[1].Form["TokenCode"], "the outer role has no mfa_serial")
	require.Equal(t, "ASIA1", calls[2].SignedBy, "the second outer call reuses the MFA session")
}

func TestMFAErrors(t *testing.T) {
	t.Run("no code function", func(t *testing.T) {
		e := newEnv(t)
		sts := newSTS(t)
		e.write(t, "config", mfaConfig)
		e["AWS_PROFILE"], e["AWS_ENDPOINT_URL_STS"] = "outer", sts.URL
		_, err := chain(t, e)
		require.ErrorContains(t, err, `profile "mfa" sets mfa_serial arn:aws:iam::1:mfa/me, and no MFA code function is set: set awscred.Options.MFATokenCode`)
		require.Empty(t, sts.recorded())
	})
	t.Run("the function fails", func(t *testing.T) {
		refused := errors.New("the user closed the prompt")
		ch, sts := mfaChain(t, "mfa", &codes{err: refused})
		_, err := ch.Retrieve(context.Background())
		require.ErrorIs(t, err, refused)
		require.ErrorContains(t, err, "the MFA code of arn:aws:iam::1:mfa/me")
		require.Empty(t, sts.recorded())
		require.NotContains(t, err.Error(), "base-secret")
	})
}
