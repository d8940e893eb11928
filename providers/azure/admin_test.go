package azure

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
)

// TestContainerAdmin runs CreateContainer and DeleteContainer against
// Azurite: they return the SDK's errors, which errorDetail still maps.
func TestContainerAdmin(t *testing.T) {
	srv := emulator.Azurite(t, nil)
	ctx := context.Background()
	c, err := New(ctx, Options{ConnectionString: srv.ConnectionString})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })

	require.NoError(t, c.CreateContainer(ctx, "admin"))
	err = c.CreateContainer(ctx, "admin")
	re := responseError(t, err)
	require.Equal(t, http.StatusConflict, re.StatusCode)
	require.Equal(t, "ContainerAlreadyExists", re.ErrorCode)
	require.Equal(t, blob.ErrPreconditionFailed, errorDetail(err).Kind)
	var be *blob.Error
	require.False(t, errors.As(err, &be), "Client calls return the SDK's errors, not *blob.Error")

	// Two containers through one client.
	a, err := c.Bucket("admin")
	require.NoError(t, err)
	require.NoError(t, c.CreateContainer(ctx, "admin-two"))
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
	require.NoError(t, b.Close())

	require.NoError(t, c.DeleteContainer(ctx, "admin"))
	err = c.DeleteContainer(ctx, "admin")
	re = responseError(t, err)
	require.Equal(t, http.StatusNotFound, re.StatusCode)
	require.Equal(t, "ContainerNotFound", re.ErrorCode)
	require.Equal(t, blob.ErrNotFound, errorDetail(err).Kind)
}

func responseError(t *testing.T, err error) *azcore.ResponseError {
	t.Helper()
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	return re
}

func TestContainerNames(t *testing.T) {
	c, err := New(context.Background(), Options{Account: "acct", SharedKey: "a2V5"})
	require.NoError(t, err)
	for _, good := range []string{"abc", "a-b-c", "0container9", "$root", "$web", "$logs", strings.Repeat("a", 63)} {
		b, err := c.Bucket(good)
		require.NoError(t, err, good)
		require.NoError(t, b.Close())
	}
	for _, bad := range []string{"", "ab", "-abc", "abc-", "a--b", "ABC", "a_b", "a.b", "$other", strings.Repeat("a", 63) + "a"} {
		_, err := c.Bucket(bad)
		require.ErrorIs(t, err, blob.ErrInvalidArgument, bad)
		var be *blob.Error
		require.ErrorAs(t, err, &be)
		require.Equal(t, blob.OpOpen, be.Op)
		require.Equal(t, Scheme, be.Provider)
		require.Equal(t, bad, be.Bucket)
		_, err = OpenBucket(context.Background(), bad, Options{Account: "acct", SharedKey: "a2V5"})
		require.ErrorIs(t, err, blob.ErrInvalidArgument, bad)
	}
}

// noToken is a credential that is never asked for a token.
type noToken struct{}

func (noToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New("no token")
}

func TestNewErrorsAreOpenErrors(t *testing.T) {
	for _, opts := range []Options{
		{},
		{ConnectionString: "garbage"},
		{Account: "acct", SharedKey: "not base64!"},
		{ServiceURL: "ftp://x"},
		{ServiceURL: "http://127.0.0.1:1/acct", Credential: noToken{}},
	} {
		_, err := New(context.Background(), opts)
		require.ErrorIs(t, err, blob.ErrInvalidArgument)
		var be *blob.Error
		require.ErrorAs(t, err, &be)
		require.Equal(t, blob.OpOpen, be.Op)
		require.Equal(t, Scheme, be.Provider)
		_, err = OpenBucket(context.Background(), "box", opts)
		require.ErrorAs(t, err, &be)
		require.Equal(t, "box", be.Bucket)
	}
}
