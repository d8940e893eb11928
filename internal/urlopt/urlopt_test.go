package urlopt

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

func TestBucketAndParams(t *testing.T) {
	u, _ := url.Parse("gs://bkt?b=2&a=1")
	name, err := Bucket(u, "bucket")
	require.NoError(t, err)
	require.Equal(t, "bkt", name)
	var seen []string
	require.NoError(t, Params(u, []string{"a", "b"}, func(k, v string) error { seen = append(seen, k+"="+v); return nil }))
	require.Equal(t, []string{"a=1", "b=2"}, seen, "in name order")

	err = Params(u, []string{"a"}, func(string, string) error { return nil })
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.ErrorContains(t, err, `unknown URL parameter "b" (known: a)`)

	for _, bad := range []string{"gs://", "gs://bkt/path"} {
		u, _ := url.Parse(bad)
		_, err := Bucket(u, "bucket")
		require.ErrorIs(t, err, blob.ErrInvalidArgument, bad)
	}
	_, err = Bool("gs", "anonymous", "maybe")
	require.ErrorContains(t, err, `anonymous="maybe" is not a boolean`)
	b, err := Bool("gs", "anonymous", "true")
	require.NoError(t, err)
	require.True(t, b)
}

func TestRetry(t *testing.T) {
	var p blob.RetryPolicy
	ok, err := Retry("s3", "max_attempts", "3", &p)
	require.True(t, ok)
	require.NoError(t, err)
	ok, err = Retry("s3", "retry_budget", "-1", &p)
	require.True(t, ok)
	require.NoError(t, err)
	require.Equal(t, blob.RetryPolicy{MaxAttempts: 3, Budget: -1}, p)
	ok, err = Retry("s3", "region", "x", &p)
	require.False(t, ok)
	require.NoError(t, err)
	for _, bad := range [][2]string{{"max_attempts", "0"}, {"max_attempts", "many"}, {"retry_budget", "1.5"}} {
		_, err = Retry("gs", bad[0], bad[1], &p)
		require.ErrorIs(t, err, blob.ErrInvalidArgument)
		require.ErrorContains(t, err, "gs: URL parameter "+bad[0])
	}
}
