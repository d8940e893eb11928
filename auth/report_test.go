package auth_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth"
)

func sample() auth.Report {
	var r auth.Report
	r.Chain = "aws"
	r.Add(auth.Attempt{Source: "env", Outcome: auth.Skipped, Reason: "AWS_ACCESS_KEY_ID not set"})
	r.Add(auth.Attempt{Source: "profile default", Outcome: auth.Failed, Err: fs.ErrNotExist})
	r.Add(auth.Attempt{Source: "imds", Outcome: auth.Skipped, Reason: "disabled by AWS_EC2_METADATA_DISABLED"})
	return r
}

func TestReportString(t *testing.T) {
	r := sample()
	require.Equal(t, `aws credential chain:
  env: skipped (AWS_ACCESS_KEY_ID not set)
  profile default: failed: file does not exist
  imds: skipped (disabled by AWS_EC2_METADATA_DISABLED)`, r.String())
	_, ok := r.Used()
	require.False(t, ok)

	r.Add(auth.Attempt{Source: "sso", Outcome: auth.Used, Reason: "cached token"})
	used, ok := r.Used()
	require.True(t, ok)
	require.Equal(t, "sso", used.Source)
	require.Equal(t, "used", used.Outcome.String())
	require.Equal(t, "Outcome(7)", auth.Outcome(7).String())
}

func TestNoCredentialsError(t *testing.T) {
	err := error(&auth.NoCredentialsError{Report: sample()})
	require.Contains(t, err.Error(), "no credentials found: aws credential chain:")
	require.Contains(t, err.Error(), "imds: skipped (disabled by AWS_EC2_METADATA_DISABLED)")
	require.ErrorIs(t, err, fs.ErrNotExist, "the sources' errors stay reachable")
	var nce *auth.NoCredentialsError
	require.True(t, errors.As(err, &nce))
	require.Len(t, nce.Report.Attempts, 3)
}
