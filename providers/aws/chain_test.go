package aws_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/providers/aws"
)

// TestFromURLUsesTheAWSChain opens with nothing but a profile in the
// shared files: region, endpoint and keys all come from it.
func TestFromURLUsesTheAWSChain(t *testing.T) {
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".aws"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "credentials"),
		[]byte("[team]\naws_access_key_id = AKIATEAM\naws_secret_access_key = team-secret\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "config"),
		[]byte("[profile team]\nregion = ap-south-1\nendpoint_url = http://127.0.0.1:9\n"), 0o600))
	env := map[string]string{"HOME": home, "AWS_PROFILE": "team", "AWS_EC2_METADATA_DISABLED": "true"}
	u, _ := url.Parse("s3://bkt")
	_, opts, err := aws.FromURL(u, func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, "ap-south-1", opts.Region)
	require.Equal(t, "http://127.0.0.1:9", opts.Endpoint)
	creds, err := opts.Credentials.Retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, "AKIATEAM", creds.AccessKeyID)
	require.Equal(t, "profile team", creds.Source)

	env = map[string]string{"HOME": t.TempDir(), "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
	_, _, err = aws.FromURL(u, func(k string) string { return env[k] })
	require.ErrorIs(t, err, blob.ErrUnauthenticated)
	require.ErrorContains(t, err, "imds: skipped (disabled by AWS_EC2_METADATA_DISABLED)", "the chain's report explains")
}

// TestAnonymousTakesTheProfileRegion: a public bucket needs no credentials,
// but its region and endpoint still come from the profile.
func TestAnonymousTakesTheProfileRegion(t *testing.T) {
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".aws"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "config"),
		[]byte("[default]\nregion = ca-central-1\nservices = s\n\n[services s]\ns3 =\n  endpoint_url = https://s3.example.test\n"), 0o600))
	env := map[string]string{"HOME": home, "AWS_EC2_METADATA_DISABLED": "true"}
	u, _ := url.Parse("s3://public-data?anonymous=true")
	_, opts, err := aws.FromURL(u, func(k string) string { return env[k] })
	require.NoError(t, err)
	require.True(t, opts.Anonymous)
	require.Equal(t, "ca-central-1", opts.Region)
	require.Equal(t, "https://s3.example.test", opts.Endpoint)
}
