package gcp

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// Parallel reads themselves are tested on every cloud at once, through a
// simulated far link: providers/all's TestParallelReadsOnEveryCloud.

func TestReadOptionsAreChecked(t *testing.T) {
	_, err := New(context.Background(), Options{Anonymous: true, ReadConcurrency: -1})
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.ErrorContains(t, err, "ReadConcurrency")
	_, err = New(context.Background(), Options{Anonymous: true, ReadPartSize: 1000})
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.ErrorContains(t, err, "under 1 MiB")
	_, err = New(context.Background(), Options{Anonymous: true, ReadTarget: -1})
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.ErrorContains(t, err, "ReadTarget")
}
