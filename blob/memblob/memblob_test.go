package memblob_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/memblob"
)

func TestOpenByURL(t *testing.T) {
	ctx := context.Background()
	a, err := blob.OpenBucket(ctx, "mem://shared-"+t.Name())
	require.NoError(t, err)
	require.NoError(t, blob.WriteAll(ctx, a, "k", []byte("v"), nil))
	require.NoError(t, a.Close())

	b, err := blob.OpenBucket(ctx, "mem://shared-"+t.Name())
	require.NoError(t, err)
	defer b.Close()
	got, err := blob.ReadAll(ctx, b, "k")
	require.NoError(t, err, "a named bucket keeps its data across opens")
	require.Equal(t, "v", string(got))

	fresh, err := blob.OpenBucket(ctx, "mem://")
	require.NoError(t, err)
	defer fresh.Close()
	ok, err := blob.Exists(ctx, fresh, "k")
	require.NoError(t, err)
	require.False(t, ok, "mem:// with no name is a new bucket")

	_, err = blob.OpenBucket(ctx, "mem://x?region=y")
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.ErrorContains(t, err, "region=y")
}

func TestListTokenSurvivesDeletes(t *testing.T) {
	ctx := context.Background()
	b := memblob.New("list")
	defer b.Close()
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		require.NoError(t, blob.WriteAll(ctx, b, k, nil, nil))
	}
	p1, err := b.List(ctx, &blob.ListOptions{PageSize: 2})
	require.NoError(t, err)
	require.Len(t, p1.Objects, 2)
	require.NoError(t, b.Delete(ctx, "a"))
	require.NoError(t, b.Delete(ctx, "b"))
	p2, err := b.List(ctx, &blob.ListOptions{PageSize: 2, PageToken: p1.NextPageToken})
	require.NoError(t, err)
	require.Equal(t, "c", p2.Objects[0].Key)
	require.Equal(t, "d", p2.Objects[1].Key)

	_, err = b.List(ctx, &blob.ListOptions{PageToken: "not a token!"})
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
}

func TestStoredCopiesAreIndependent(t *testing.T) {
	ctx := context.Background()
	b := memblob.New("copies")
	defer b.Close()
	md := map[string]string{"k": "v"}
	require.NoError(t, blob.WriteAll(ctx, b, "k", []byte("v"), &blob.WriterOptions{Metadata: md}))
	md["k"] = "changed"
	a, err := b.Attributes(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "v", a.Metadata["k"], "the caller's map is not kept")
	a.Metadata["k"] = "mutated"
	a2, err := b.Attributes(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "v", a2.Metadata["k"], "the returned map is a copy")
	require.Equal(t, `"9e3669d19b675bd57058fd4664205d2a"`, a2.ETag, "quoted MD5 of \"v\"")
}
