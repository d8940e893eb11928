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
