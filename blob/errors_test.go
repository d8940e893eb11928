package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"unicode/utf8"

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
			err := wrapError(tt.ctx, tt.err, nil, "s3", "bkt", OpAttributes, "k")
			requireOnlyKind(t, err, tt.want)
			var be *Error
			require.ErrorAs(t, err, &be)
			require.Equal(t, "s3", be.Provider)
			require.Equal(t, "bkt", be.Bucket)
			require.Equal(t, OpAttributes, be.Op)
			require.Equal(t, "k", be.Key)
		})
	}
}

func TestErrorReachesNativeCause(t *testing.T) {
	native := &nativeErr{"NoSuchKey"}
	err := wrapError(context.Background(), &Error{Kind: ErrNotFound, Code: "NoSuchKey", Status: 404, RequestID: "R1", Err: native}, nil, "s3", "b", OpAttributes, "k")
	var got *nativeErr
	require.ErrorAs(t, err, &got)
	require.Same(t, native, got)

	err = wrapError(context.Background(), fmt.Errorf("get: %w", context.Canceled), nil, "s3", "b", OpRead, "k")
	require.ErrorIs(t, err, context.Canceled, "non-sentinel targets look into the cause")
}

func TestErrorMessageNamesEverything(t *testing.T) {
	err := wrapError(context.Background(), &Error{Kind: ErrNotFound, Code: "NoSuchKey", Status: 404, RequestID: "REQ9", Err: errors.New("the cause")}, nil, "s3", "photos", OpRead, "a/b.jpg")
	require.Equal(t, `blob: read s3://photos "a/b.jpg": not found (NoSuchKey, status 404, request id REQ9): the cause`, err.Error())
}

func TestErrorMessageShapes(t *testing.T) {
	long := strings.Repeat("k", 1994) + "é" + "tail"
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"no cause repeats the kind", &Error{Kind: ErrNotFound, Op: OpDelete, Provider: "mem", Bucket: "b", Key: "k", Err: ErrNotFound},
			`blob: delete mem://b "k": not found`},
		{"a cause that only says the kind", &Error{Kind: ErrNotFound, Op: OpOpen, Provider: "file", Bucket: "/d", Err: errors.New("not found")},
			`blob: open file:///d: not found`},
		{"a many-line cause on one line", &Error{Kind: ErrInternal, Op: OpWrite, Provider: "azblob", Bucket: "c", Key: "k", Err: errors.New("PUT x\n----\nRESPONSE 500\n  boom")},
			`blob: write azblob://c "k": internal error: PUT x; ----; RESPONSE 500; boom`},
		{"a report of several lines", &Error{Kind: ErrUnauthenticated, Op: OpOpen, Provider: "s3", Bucket: "b", Err: errors.New("no credentials found: aws chain:\n  env: skipped\n  imds: skipped\n")},
			`blob: open s3://b: unauthenticated: no credentials found: aws chain: env: skipped; imds: skipped`},
		{"a long key is cut with its length", &Error{Kind: ErrInvalidArgument, Op: OpWrite, Provider: "s3", Bucket: "b", Key: long},
			`blob: write s3://b "` + strings.Repeat("k", 100) + `"... (2000 bytes): invalid argument`},
		{"no bucket", &Error{Kind: ErrInvalidArgument, Op: OpOpen, Err: errors.New("bad URL")},
			`blob: open: invalid argument: bad URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.err.Error())
		})
	}
	// A cut never splits a rune.
	e := &Error{Kind: ErrInternal, Key: strings.Repeat("a", 99) + "é"}
	require.True(t, utf8.ValidString(e.Error()))
	require.Contains(t, e.Error(), `"`+strings.Repeat("a", 99)+`"... (101 bytes)`)
}

func TestErrorDetailFromDriver(t *testing.T) {
	d := &recorder{}
	err := wrapError(context.Background(), fmt.Errorf("wrapped: %w", errNative), d, "test", "b", OpRead, "k")
	requireOnlyKind(t, err, ErrNotFound)
	var be *Error
	require.ErrorAs(t, err, &be)
	require.Equal(t, "NoSuchThing", be.Code)
	require.Equal(t, 404, be.Status)
	require.Equal(t, "R1", be.RequestID)
	require.ErrorIs(t, err, errNative, "the native cause stays reachable")
	require.Equal(t, `blob: read test://b "k": not found (NoSuchThing, status 404, request id R1): no such; thing`, err.Error())
	// What the driver does not know falls back to KindOf.
	requireOnlyKind(t, wrapError(context.Background(), errors.New("x"), d, "test", "b", OpRead, "k"), ErrInternal)
}

func TestKindOf(t *testing.T) {
	require.Nil(t, KindOf(nil))
	require.Equal(t, ErrNotFound, KindOf(fmt.Errorf("x: %w", &Error{Kind: ErrNotFound})))
	require.Equal(t, ErrCanceled, KindOf(context.Canceled))
	require.Equal(t, ErrInternal, KindOf(errors.New("x")))
	require.Equal(t, ErrInvalidArgument, KindOf(Errorf(ErrInvalidArgument, "bad %d", 1)))
}
