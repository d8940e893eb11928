package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireOnlyKind asserts err matches kind and no other sentinel.
func requireOnlyKind(t *testing.T, err error, kind error) {
	t.Helper()
	require.Error(t, err)
	var be *Error
	require.ErrorAs(t, err, &be, "every bucket error is a *blob.Error: %v", err)
	for _, s := range sentinels {
		if s == kind {
			require.ErrorIs(t, err, s)
		} else {
			require.NotErrorIs(t, err, s, "%v must match only %v", err, kind)
		}
	}
}

type nativeErr struct{ code string }

func (e *nativeErr) Error() string { return "native " + e.code }

func TestWrapErrorOneSentinel(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	native := &nativeErr{"NoSuchKey"}
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want error
	}{
		{"driver Error keeps its kind", context.Background(), &Error{Kind: ErrNotFound, Err: native}, ErrNotFound},
		{"plain error is internal", context.Background(), errors.New("boom"), ErrInternal},
		{"wrapped sentinel is found", context.Background(), fmt.Errorf("x: %w", ErrThrottled), ErrThrottled},
		{"context.Canceled", context.Background(), context.Canceled, ErrCanceled},
		{"deadline", context.Background(), fmt.Errorf("dial: %w", context.DeadlineExceeded), ErrCanceled},
		{"canceled ctx wins over the driver's kind", canceled, &Error{Kind: ErrNotFound, Err: native}, ErrCanceled},
		{"canceled ctx wins over a wrapped sentinel", canceled, fmt.Errorf("x: %w", ErrNotFound), ErrCanceled},
		{"cause wrapping another Error", context.Background(), &Error{Kind: ErrPermissionDenied, Err: &Error{Kind: ErrNotFound}}, ErrPermissionDenied},
		{"nil kind is internal", context.Background(), &Error{Err: native}, ErrInternal},
		{"foreign kind is internal", context.Background(), &Error{Kind: fs.ErrNotExist}, ErrInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrapError(tt.ctx, tt.err, "s3", "bkt", "Attributes", "k")
			requireOnlyKind(t, err, tt.want)
			var be *Error
			require.ErrorAs(t, err, &be)
			require.Equal(t, "s3", be.Provider)
			require.Equal(t, "bkt", be.Bucket)
			require.Equal(t, "Attributes", be.Op)
			require.Equal(t, "k", be.Key)
		})
	}
}

func TestErrorReachesNativeCause(t *testing.T) {
	native := &nativeErr{"NoSuchKey"}
	err := wrapError(context.Background(), &Error{Kind: ErrNotFound, Code: "NoSuchKey", Status: 404, RequestID: "R1", Err: native}, "s3", "b", "Attributes", "k")
	var got *nativeErr
	require.ErrorAs(t, err, &got)
	require.Same(t, native, got)

	err = wrapError(context.Background(), fmt.Errorf("get: %w", context.Canceled), "s3", "b", "Read", "k")
	require.ErrorIs(t, err, context.Canceled, "non-sentinel targets look into the cause")
}

func TestErrorMessageNamesEverything(t *testing.T) {
	err := wrapError(context.Background(), &Error{Kind: ErrNotFound, Code: "NoSuchKey", Status: 404, RequestID: "REQ9", Err: errors.New("the cause")}, "s3", "photos", "NewRangeReader", "a/b.jpg")
	msg := err.Error()
	for _, want := range []string{"s3", `"photos"`, "NewRangeReader", `"a/b.jpg"`, "not found", "NoSuchKey", "status 404", "REQ9", "the cause"} {
		require.Contains(t, msg, want)
	}
}

func TestKindOf(t *testing.T) {
	require.Nil(t, KindOf(nil))
	require.Equal(t, ErrNotFound, KindOf(fmt.Errorf("x: %w", &Error{Kind: ErrNotFound})))
	require.Equal(t, ErrCanceled, KindOf(context.Canceled))
	require.Equal(t, ErrInternal, KindOf(errors.New("x")))
	require.Equal(t, ErrInvalidArgument, KindOf(Errorf(ErrInvalidArgument, "bad %d", 1)))
}
