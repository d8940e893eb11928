package aws

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
)

// TestDeletePrefixOnMinIOLeavesNothing stores, with MinIO's default
// options, keys MinIO lists only once another is gone (t/a/1 beside the
// object t/a), and requires DeletePrefix to delete them all or say what is
// left, never report success with objects remaining.
func TestDeletePrefixOnMinIOLeavesNothing(t *testing.T) {
	testEnv(t)
	ctx := context.Background()
	c := newClient(t, minioOptions(emulator.MinIO(t)))
	b, _ := newBucket(t, c)
	var stored []string
	for _, k := range []string{"t/a/1", "t/a", "t/b"} {
		if err := blob.WriteAll(ctx, b, k, []byte(k), nil); err == nil {
			stored = append(stored, k)
		}
	}
	require.Contains(t, stored, "t/a/1")
	n, err := blob.DeletePrefix(ctx, b, "t/")
	require.NoError(t, err)
	require.Equal(t, len(stored), n, "stored %v", stored)
	for _, k := range stored {
		ok, err := blob.Exists(ctx, b, k)
		require.NoError(t, err)
		require.False(t, ok, "%s is gone", k)
	}
}
