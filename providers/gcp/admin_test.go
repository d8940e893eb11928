package gcp

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/api/googleapi"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
)

// TestBucketAdmin runs CreateBucket and DeleteBucket against
// fake-gcs-server: they return the storage client's errors, which
// errorDetail still maps.
func TestBucketAdmin(t *testing.T) {
	srv := emulator.FakeGCS(t)
	ctx := context.Background()
	c, err := New(ctx, Options{Endpoint: srv.Endpoint, Anonymous: true, Project: "test-project"})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })

	require.NoError(t, c.CreateBucket(ctx, "admin"))
	err = c.CreateBucket(ctx, "admin")
	require.Equal(t, http.StatusConflict, apiError(t, err).Code)
	require.Equal(t, blob.ErrPreconditionFailed, errorDetail(err).Kind)
	var be *blob.Error
	require.False(t, errors.As(err, &be), "Client calls return the storage client's errors, not *blob.Error")

	// Two buckets through one client; closing one leaves the client open.
	a, err := c.Bucket("admin")
	require.NoError(t, err)
	require.NoError(t, c.CreateBucket(ctx, "admin-two"))
	b, err := c.Bucket("admin-two")
	require.NoError(t, err)
	require.NoError(t, blob.WriteAll(ctx, a, "k", []byte("a"), nil))
	require.NoError(t, blob.WriteAll(ctx, b, "k", []byte("b"), nil))
	require.NoError(t, a.Close())
	got, err := blob.ReadAll(ctx, b, "k")
	require.NoError(t, err, "closing one bucket leaves the client to the others")
	require.Equal(t, "b", string(got))
	var asClient *Client
	require.True(t, blob.As(b, &asClient))
	require.Same(t, c, asClient)
	require.NoError(t, b.Delete(ctx, "k"))
	require.NoError(t, b.Close())

	require.NoError(t, c.DeleteBucket(ctx, "admin-two"))
	err = c.DeleteBucket(ctx, "admin-two")
	require.Equal(t, http.StatusNotFound, apiError(t, err).Code)
	require.Equal(t, blob.ErrNotFound, errorDetail(err).Kind)
}

func apiError(t *testing.T, err error) *googleapi.Error {
	t.Helper()
	var ge *googleapi.Error
	require.ErrorAs(t, err, &ge)
	return ge
}

func TestBucketNames(t *testing.T) {
	c, err := New(context.Background(), Options{Anonymous: true})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	long := strings.Repeat("a", 63)
	for _, good := range []string{"abc", "a-b_c", "0bucket9", "my.bucket.example", long, long + "." + long + "." + long} {
		b, err := c.Bucket(good)
		require.NoError(t, err, good)
		require.NoError(t, b.Close())
	}
	for _, bad := range []string{
		"", "ab", "-abc", "abc-", "_abc", "ABC", "a b", "a/b", long + "a", "a..b", long + "a.b",
		strings.Repeat(long+".", 4) + "a", "192.168.5.4", "goog-bucket", "my-google-bucket",
	} {
		_, err := c.Bucket(bad)
		require.ErrorIs(t, err, blob.ErrInvalidArgument, bad)
		var be *blob.Error
		require.ErrorAs(t, err, &be)
		require.Equal(t, blob.OpOpen, be.Op)
		require.Equal(t, Scheme, be.Provider)
		require.Equal(t, bad, be.Bucket)
		_, err = OpenBucket(context.Background(), bad, Options{Anonymous: true})
		require.ErrorIs(t, err, blob.ErrInvalidArgument, bad)
	}
}

func TestNewErrorsAreOpenErrors(t *testing.T) {
	for _, opts := range []Options{
		{Endpoint: "ftp://x"},
		{Endpoint: "http://127.0.0.1:1"},
	} {
		_, err := New(context.Background(), opts)
		require.ErrorIs(t, err, blob.ErrInvalidArgument)
		var be *blob.Error
		require.ErrorAs(t, err, &be)
		require.Equal(t, blob.OpOpen, be.Op)
		require.Equal(t, Scheme, be.Provider)
		_, err = OpenBucket(context.Background(), "bkt", opts)
		require.ErrorAs(t, err, &be)
		require.Equal(t, "bkt", be.Bucket)
	}
}
