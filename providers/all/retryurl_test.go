package all_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/providers/aws"
	"github.com/anyblob/anyblob/providers/azure"
	"github.com/anyblob/anyblob/providers/gcp"
)

// TestRetryParametersMeanTheSameEverywhere reads max_attempts and
// retry_budget from the URL of every cloud into the one RetryPolicy.
func TestRetryParametersMeanTheSameEverywhere(t *testing.T) {
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
		"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}
	getenv := func(k string) string { return env[k] }
	want := blob.RetryPolicy{MaxAttempts: 2, Budget: -1}
	parse := map[string]func(u *url.URL) (blob.RetryPolicy, error){
		"s3": func(u *url.URL) (blob.RetryPolicy, error) { _, o, err := aws.FromURL(u, getenv); return o.Retry, err },
		"azblob": func(u *url.URL) (blob.RetryPolicy, error) {
			_, o, err := azure.FromURL(u, getenv)
			return o.Retry, err
		},
		"gs": func(u *url.URL) (blob.RetryPolicy, error) { _, o, err := gcp.FromURL(u, getenv); return o.Retry, err },
	}
	for scheme, fromURL := range parse {
		u, err := url.Parse(scheme + "://bkt-name?max_attempts=2&retry_budget=-1")
		require.NoError(t, err)
		got, err := fromURL(u)
		require.NoError(t, err, scheme)
		require.Equal(t, want, got, scheme)

		u, err = url.Parse(scheme + "://bkt-name?max_attempts=0")
		require.NoError(t, err)
		_, err = fromURL(u)
		require.ErrorIs(t, err, blob.ErrInvalidArgument, scheme)
		require.ErrorContains(t, err, "max_attempts")
	}
}
