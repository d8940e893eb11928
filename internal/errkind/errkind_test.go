package errkind

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/blob"
)

func TestStatus(t *testing.T) {
	for status, want := range map[int]error{
		400: blob.ErrInvalidArgument, 401: blob.ErrUnauthenticated, 403: blob.ErrPermissionDenied,
		404: blob.ErrNotFound, 405: blob.ErrNotImplemented, 409: blob.ErrPreconditionFailed,
		411: blob.ErrInvalidArgument, 412: blob.ErrPreconditionFailed, 413: blob.ErrInvalidArgument,
		414: blob.ErrInvalidArgument, 416: blob.ErrInvalidArgument, 429: blob.ErrThrottled,
		501: blob.ErrNotImplemented, 503: blob.ErrThrottled,
		408: blob.ErrInternal, 500: blob.ErrInternal, 502: blob.ErrInternal, 504: blob.ErrInternal,
		200: blob.ErrInternal, 418: blob.ErrInternal,
	} {
		require.Equal(t, want, Status(status), "%d %s", status, http.StatusText(status))
	}
}

func TestCommon(t *testing.T) {
	nce := &auth.NoCredentialsError{}
	require.Equal(t, blob.ErrUnauthenticated, Common(nce))
	require.Equal(t, blob.ErrUnauthenticated, Common(fmt.Errorf("token: %w", nce)), "wrapped")
	require.Nil(t, Common(errors.New("dial tcp: refused")))
}
