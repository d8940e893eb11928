package conformance

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// signed returns a signed URL, or, when the backend lacks the capability,
// checks that it says so and ends the check.
func (s *suite) signed(t *testing.T, b blob.Bucket, key string, opts *blob.SignedURLOptions) string {
	t.Helper()
	u, err := b.SignedURL(t.Context(), key, opts)
	if why, lacks := s.lacks(SignedURL); lacks {
		requireKind(t, err, blob.ErrNotImplemented, "a backend that lacks signed URLs must say so")
		t.Logf("lacks %s (declared: %s): returns ErrNotImplemented as it should", SignedURL, why)
		return ""
	}
	require.NoError(t, err)
	require.NotEmpty(t, u)
	return u
}

// unchecked reports, and logs, that the server does not verify signed
// URLs, so a check that needs a refusal cannot be made.
func (s *suite) unchecked(t *testing.T) bool {
	if s.h.UncheckedSignedURLs == "" {
		return false
	}
	t.Logf("not applicable: the server does not check signed URLs (declared: %s)", s.h.UncheckedSignedURLs)
	return true
}

// do sends one request with no credentials but those in the URL.
func (s *suite) do(t *testing.T, method, u string, body []byte, header http.Header) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, r)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, data
}

var signedURLChecks = []check{
	{"GET", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "dir/signed file+é.txt", []byte("signed content"), nil)
		u := s.signed(t, b, "dir/signed file+é.txt", nil)
		if u == "" {
			return
		}
		status, body := s.do(t, http.MethodGet, u, nil, nil)
		require.Equal(t, http.StatusOK, status, "%s", body)
		require.Equal(t, "signed content", string(body))
	}},
	{"PUT", func(t *testing.T, s *suite) {
		b := s.open(t)
		u := s.signed(t, b, "uploaded", &blob.SignedURLOptions{Method: http.MethodPut, ContentType: "text/plain"})
		if u == "" {
			return
		}
		status, body := s.do(t, http.MethodPut, u, []byte("via url"), http.Header{
			"Content-Type":   {"text/plain"},
			"X-Ms-Blob-Type": {"BlockBlob"}, // Azure needs it; others ignore it
		})
		require.True(t, status == http.StatusOK || status == http.StatusCreated, "status %d: %s", status, body)
		require.Equal(t, "via url", string(get(t, b, "uploaded")))
		a, err := b.Attributes(t.Context(), "uploaded")
		require.NoError(t, err)
		require.Equal(t, "text/plain", a.ContentType)
	}},
	{"DELETE", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "doomed", []byte("x"), nil)
		u := s.signed(t, b, "doomed", &blob.SignedURLOptions{Method: http.MethodDelete})
		if u == "" {
			return
		}
		status, body := s.do(t, http.MethodDelete, u, nil, nil)
		require.True(t, status == http.StatusOK || status == http.StatusAccepted || status == http.StatusNoContent, "status %d: %s", status, body)
		require.False(t, exists(t, b, "doomed"))
	}},
	{"GET URL does not allow PUT", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("original"), nil)
		u := s.signed(t, b, "obj", nil)
		if u == "" || s.unchecked(t) {
			return
		}
		status, _ := s.do(t, http.MethodPut, u, []byte("overwritten"), http.Header{"X-Ms-Blob-Type": {"BlockBlob"}})
		require.GreaterOrEqual(t, status, 400, "a GET URL must not accept a PUT")
		require.Equal(t, "original", string(get(t, b, "obj")))
	}},
	{"expired URL fails", func(t *testing.T, s *suite) {
		b := s.open(t)
		put(t, b, "obj", []byte("x"), nil)
		u := s.signed(t, b, "obj", &blob.SignedURLOptions{Expiry: time.Second})
		if u == "" || s.unchecked(t) {
			return
		}
		time.Sleep(2500 * time.Millisecond)
		status, body := s.do(t, http.MethodGet, u, nil, nil)
		require.GreaterOrEqual(t, status, 400, "an expired URL must fail: %s", body)
	}},
	{"bad options are invalid", func(t *testing.T, s *suite) {
		b := s.open(t)
		for _, o := range []blob.SignedURLOptions{
			{Method: "POST"}, {Expiry: time.Millisecond}, {Expiry: 8 * 24 * time.Hour},
			{Method: http.MethodGet, ContentType: "text/plain"},
		} {
			_, err := b.SignedURL(t.Context(), "obj", &o)
			requireKind(t, err, blob.ErrInvalidArgument, "%+v", o)
		}
		_, err := b.SignedURL(t.Context(), "", nil)
		requireKind(t, err, blob.ErrInvalidArgument, "empty key")
	}},
}
