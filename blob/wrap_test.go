package blob_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/memblob"
)

// countingDriver counts Attributes calls and fails every second one.
type countingDriver struct {
	blob.Driver
	calls int
}

func (c *countingDriver) Attributes(ctx context.Context, key string) (*blob.Attributes, error) {
	c.calls++
	if c.calls%2 == 0 {
		return nil, blob.Errorf(blob.ErrThrottled, "injected on call %d", c.calls)
	}
	return c.Driver.Attributes(ctx, key)
}

func TestWrapIsASeamForOutsideDecorators(t *testing.T) {
	ctx := context.Background()
	b := memblob.New("wrap")
	require.NoError(t, blob.WriteAll(ctx, b, "k", []byte("v"), nil))
	var cd *countingDriver
	w := blob.Wrap(blob.Prefixed(b, ""), func(d blob.Driver) blob.Driver {
		cd = &countingDriver{Driver: d}
		return cd
	})
	_, err := w.Attributes(ctx, "k")
	require.NoError(t, err)
	_, err = w.Attributes(ctx, "k")
	require.ErrorIs(t, err, blob.ErrThrottled)
	require.Equal(t, 1, strings.Count(err.Error(), "blob:"), "wrapped once: %v", err)
	require.Contains(t, err.Error(), `attributes mem://`)
	var be *blob.Error
	require.True(t, errors.As(err, &be))

	_, err = w.Attributes(ctx, "bad\x00key")
	require.ErrorIs(t, err, blob.ErrInvalidArgument, "keys are checked before the wrapped driver")
	require.Equal(t, 2, cd.calls)

	require.Same(t, b, blob.Wrap(b, func(blob.Driver) blob.Driver { return nil }), "nil keeps b")

	require.NoError(t, w.Close())
	_, err = b.Attributes(ctx, "k")
	require.Error(t, err, "closing the view closes b")
}
