package sigv4_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/conformance/emulator"
)

// TestAgainstMinIO sends what the signer produces to a real S3 server:
// header-signed requests through the Transport, presigned URLs, and the
// three aws-chunked streaming modes.
func TestAgainstMinIO(t *testing.T) {
	srv := emulator.MinIO(t)
	creds := sigv4.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
	signer := &sigv4.Signer{Service: "s3", Region: srv.Region}
	client := &http.Client{Transport: &sigv4.Transport{Source: sigv4.StaticCredentials(creds), Signer: signer}, Timeout: 30 * time.Second}
	objURL := func(key string) string {
		return srv.Endpoint + "/sigv4-test/" + (&url.URL{Path: key}).EscapedPath()
	}
	send := func(t *testing.T, c *http.Client, req *http.Request, want int) []byte {
		t.Helper()
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, want, resp.StatusCode, string(b))
		return b
	}
	req, err := http.NewRequest(http.MethodPut, srv.Endpoint+"/sigv4-test", nil)
	require.NoError(t, err)
	send(t, client, req, 200)

	// (MinIO refuses keys with "." or ".." segments or "//": XMinioInvalid*Name.)
	keys := []string{"plain.txt", "a b/c$&+=:@~,ü.txt", "dir/100%.bin", "ключ/キー", "tab\tand\nnewline"}
	for _, key := range keys {
		t.Run("transport "+key, func(t *testing.T) {
			body := "content of " + key
			req, err := http.NewRequest(http.MethodPut, objURL(key), strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("X-Amz-Meta-Note", "  two   spaces ")
			send(t, client, req, 200)
			req, err = http.NewRequest(http.MethodGet, objURL(key), nil)
			require.NoError(t, err)
			require.Equal(t, body, string(send(t, client, req, 200)))
		})
		t.Run("presigned "+key, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPut, objURL(key), nil)
			require.NoError(t, err)
			u, err := signer.Presign(req, creds, "", time.Minute, time.Now())
			require.NoError(t, err)
			put, err := http.NewRequest(http.MethodPut, u.String(), strings.NewReader("presigned"))
			require.NoError(t, err)
			send(t, http.DefaultClient, put, 200)

			req, err = http.NewRequest(http.MethodGet, objURL(key), nil)
			require.NoError(t, err)
			u, err = signer.Presign(req, creds, "", time.Minute, time.Now())
			require.NoError(t, err)
			get, err := http.NewRequest(http.MethodGet, u.String(), nil)
			require.NoError(t, err)
			require.Equal(t, "presigned", string(send(t, http.DefaultClient, get, 200)))
		})
	}

	t.Run("list with query", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, srv.Endpoint+"/sigv4-test?list-type=2&prefix=a+b%2F&delimiter=%2F", nil)
		require.NoError(t, err)
		require.Contains(t, string(send(t, client, req, 200)), "<Key>a b/c$&amp;+=:@~,ü.txt</Key>")
	})

	body := bytes.Repeat([]byte("0123456789abcdef"), 10_000) // 160000 bytes
	for _, mode := range []struct {
		name string
		sign func(*http.Request) error
	}{
		{"signed chunks", func(r *http.Request) error { return signer.SignStreaming(r, creds, 64<<10, time.Now()) }},
		{"signed chunks with trailer", func(r *http.Request) error { return signer.SignStreamingTrailer(r, creds, 64<<10, time.Now()) }},
		{"unsigned trailer", func(r *http.Request) error { return signer.SignUnsignedTrailer(r, creds, 64<<10, time.Now()) }},
	} {
		t.Run("streaming "+mode.name, func(t *testing.T) {
			key := "stream/" + strings.ReplaceAll(mode.name, " ", "-")
			req, err := http.NewRequest(http.MethodPut, objURL(key), bytes.NewReader(body))
			require.NoError(t, err)
			require.NoError(t, mode.sign(req))
			send(t, http.DefaultClient, req, 200)
			req, err = http.NewRequest(http.MethodGet, objURL(key), nil)
			require.NoError(t, err)
			require.Equal(t, body, send(t, client, req, 200))
		})
	}

	t.Run("transport streams an unreplayable body", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPut, objURL("stream/transport"), io.NopCloser(bytes.NewReader(body)))
		require.NoError(t, err)
		req.ContentLength = int64(len(body))
		send(t, client, req, 200)
		req, err = http.NewRequest(http.MethodGet, objURL("stream/transport"), nil)
		require.NoError(t, err)
		require.Equal(t, body, send(t, client, req, 200))
	})

	t.Run("wrong secret is refused", func(t *testing.T) {
		bad := &http.Client{Transport: &sigv4.Transport{Source: sigv4.StaticCredentials(sigv4.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: "wrong"}), Signer: signer}}
		req, err := http.NewRequest(http.MethodGet, objURL("plain.txt"), nil)
		require.NoError(t, err)
		require.Contains(t, string(send(t, bad, req, 403)), "SignatureDoesNotMatch")
	})
}
