package aws

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
)

func TestPresignedURLs(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	b, _ := newBucket(t, c)
	ctx := context.Background()
	hc := &http.Client{Timeout: 10 * time.Second}
	key := "signed/é 100%.txt"

	do := func(t *testing.T, method, u, contentType string, body []byte) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, u, bytes.NewReader(body))
		require.NoError(t, err)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := hc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, got
	}

	put, err := b.SignedURL(ctx, key, &blob.SignedURLOptions{Method: http.MethodPut, ContentType: "text/plain"})
	require.NoError(t, err)
	require.NotContains(t, put, ep.SecretKey)
	resp, _ := do(t, http.MethodPut, put, "text/plain", []byte("signed body"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	a, err := b.Attributes(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "text/plain", a.ContentType)

	resp, _ = do(t, http.MethodPut, put, "application/json", []byte("other type"))
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "the signed Content-Type is enforced")

	get, err := b.SignedURL(ctx, key, nil)
	require.NoError(t, err)
	resp, body := do(t, http.MethodGet, get, "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "signed body", string(body))

	tampered := strings.Replace(get, "X-Amz-Expires=3600", "X-Amz-Expires=3601", 1)
	require.NotEqual(t, get, tampered)
	resp, _ = do(t, http.MethodGet, tampered, "", nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	del, err := b.SignedURL(ctx, key, &blob.SignedURLOptions{Method: http.MethodDelete})
	require.NoError(t, err)
	resp, _ = do(t, http.MethodDelete, del, "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	requireAbsent(t, b, key)

	t.Run("expired", func(t *testing.T) {
		require.NoError(t, blob.WriteAll(ctx, b, "old", []byte("x"), nil))
		past := newClient(t, minioOptions(ep))
		past.now = func() time.Time { return time.Now().Add(-2 * time.Minute) }
		pb, err := past.Bucket(b.(interface{ String() string }).String()[len("s3://"):])
		require.NoError(t, err)
		u, err := pb.SignedURL(ctx, "old", &blob.SignedURLOptions{Expiry: time.Minute})
		require.NoError(t, err)
		resp, body := do(t, http.MethodGet, u, "", nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Contains(t, string(body), "expired")
		fresh, err := b.SignedURL(ctx, "old", &blob.SignedURLOptions{Expiry: time.Minute})
		require.NoError(t, err)
		resp, _ = do(t, http.MethodGet, fresh, "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("anonymous client cannot sign", func(t *testing.T) {
		anon := newClient(t, Options{Region: ep.Region, Endpoint: ep.Endpoint, Anonymous: true})
		ab, err := anon.Bucket("anybucket")
		require.NoError(t, err)
		_, err = ab.SignedURL(ctx, "k", nil)
		require.ErrorIs(t, err, blob.ErrUnauthenticated)
	})
}
