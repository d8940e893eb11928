package blob_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/memblob"
)

// limited is a driver that says it stores segments of at most 255 bytes.
type limited struct{ blob.Driver }

func (limited) Limits(context.Context) (blob.Limits, error) {
	return blob.Limits{MaxKeyLen: 1024, MaxSegmentLen: 255}, nil
}

func TestLimitsOf(t *testing.T) {
	ctx := context.Background()
	b := memblob.New("limits")
	l, err := blob.LimitsOf(ctx, b)
	require.NoError(t, err)
	require.Equal(t, blob.Limits{MaxKeyLen: blob.MaxKeyLen}, l, "a driver that says nothing: the portable limits")

	lb := blob.Wrap(b, func(d blob.Driver) blob.Driver { return limited{d} })
	for _, tt := range []struct {
		prefix        string
		key, seg, one int
	}{
		{"", 1024, 255, 255},
		{"tenant/", 1024 - 7, 255, 255},
		{"tenant/run-", 1024 - 11, 255 - 4, 255 - 4},
		{"abc", 1021, 252, 252},
	} {
		l, err := blob.LimitsOf(ctx, blob.Prefixed(lb, tt.prefix))
		require.NoError(t, err)
		require.Equal(t, tt.key, l.MaxKeyLen, "prefix %q", tt.prefix)
		require.Equal(t, tt.seg, l.MaxSegmentLen, "prefix %q", tt.prefix)
		require.Equal(t, tt.one, l.MaxSingleKeyLen(), "prefix %q", tt.prefix)
	}
	l, err = blob.LimitsOf(ctx, blob.ReadOnly(blob.Borrow(lb)))
	require.NoError(t, err)
	require.Equal(t, 255, l.MaxSegmentLen, "through ReadOnly and Borrow")
}

func TestBorrowLeavesTheBucketOpen(t *testing.T) {
	ctx := context.Background()
	b := memblob.New("borrow")
	require.NoError(t, blob.WriteAll(ctx, b, "k", []byte("v"), nil))
	v := blob.Borrow(b)
	got, err := blob.ReadAll(ctx, v, "k")
	require.NoError(t, err)
	require.Equal(t, "v", string(got))
	require.NoError(t, v.Close())
	_, err = v.Attributes(ctx, "k")
	require.ErrorIs(t, err, blob.ErrInvalidArgument, "the view is closed")
	require.ErrorContains(t, err, "closed")
	_, err = b.Attributes(ctx, "k")
	require.NoError(t, err, "the bucket is not")
	n, err := blob.DeletePrefix(ctx, blob.Borrow(b), "")
	require.NoError(t, err)
	require.Equal(t, 1, n)
}
