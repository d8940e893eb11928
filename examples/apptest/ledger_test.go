package apptest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/examples/apptest"
)

// TestSaveAndLoad runs on memory, a directory, MinIO, Azurite and
// fake-gcs-server: each backend gets a fresh bucket of its own.
func TestSaveAndLoad(t *testing.T) {
	blobtest.Each(t, func(t *testing.T, b blob.Bucket) {
		ctx := context.Background()
		l := apptest.New(b)
		require.NoError(t, l.Save(ctx, "0001", []byte(`{"amount":12}`)))
		require.NoError(t, l.Save(ctx, "0002", []byte(`{"amount":30}`)))
		require.ErrorIs(t, l.Save(ctx, "0001", []byte(`{"amount":99}`)), apptest.ErrExists, "create-only")

		got, err := l.Load(ctx, "0001")
		require.NoError(t, err)
		require.JSONEq(t, `{"amount":12}`, string(got), "the first save stands")
		ids, err := l.IDs(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"0001", "0002"}, ids)
		_, err = l.Load(ctx, "0003")
		require.ErrorIs(t, err, blob.ErrNotFound)
	})
}

// TestSaveRetriesWhatTheServiceFailsForAMoment makes the bucket throttle
// the first two writes (on every backend), and checks that Save gets
// through; then that it gives up after its attempts, and does not retry
// what cannot succeed.
func TestSaveRetriesWhatTheServiceFailsForAMoment(t *testing.T) {
	blobtest.Each(t, func(t *testing.T, b blob.Bucket) {
		ctx := context.Background()
		faults := blobtest.NewFaults(1, blobtest.Fault{Op: blob.OpWrite, Err: blob.ErrThrottled, Times: 2})
		l := apptest.New(faults.Bucket(b))
		l.Wait = time.Millisecond
		require.NoError(t, l.Save(ctx, "0001", []byte(`{"amount":12}`)))
		require.Equal(t, 2, faults.Injected(), "two throttled writes, then the third went through")
		require.Equal(t, 3, faults.Calls(blob.OpWrite))

		faults.Add(blobtest.Fault{Op: blob.OpWrite, Err: blob.ErrInternal})
		err := l.Save(ctx, "0002", []byte(`{}`))
		require.ErrorIs(t, err, blob.ErrInternal)
		require.ErrorContains(t, err, "after 4 attempts")
		ok, err := blob.Exists(ctx, b, "entries/0002")
		require.NoError(t, err)
		require.False(t, ok, "a failed save leaves nothing")

		faults.Reset()
		faults.Add(blobtest.Fault{Op: blob.OpWrite, Err: blob.ErrPermissionDenied})
		before := faults.Calls(blob.OpWrite)
		require.ErrorIs(t, l.Save(ctx, "0003", []byte(`{}`)), blob.ErrPermissionDenied)
		require.Equal(t, 1, faults.Calls(blob.OpWrite)-before, "no retry of what cannot succeed")
	})
}

// TestManyTestsShareOneEmulatorEach is fifty small tests on every backend:
// each gets its own bucket, and each emulator is started at most once for
// them all (none, when an earlier test binary left it running).
func TestManyTestsShareOneEmulatorEach(t *testing.T) {
	for i := range 50 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			blobtest.Each(t, func(t *testing.T, b blob.Bucket) {
				l := apptest.New(b)
				require.NoError(t, l.Save(context.Background(), fmt.Sprint(i), []byte("{}")))
				ids, err := l.IDs(context.Background())
				require.NoError(t, err)
				require.Equal(t, []string{fmt.Sprint(i)}, ids, "a bucket of its own")
			})
		})
	}
	require.LessOrEqual(t, emulator.SharedStarts(), 3, "each emulator started at most once")
}
