package aws

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/telemetrytest"
)

// TestServerSideEncryptionOnMinIO writes with SSE-S3, SSE-KMS (MinIO's
// static KMS key) and SSE-C on a MinIO over TLS, and reads back what
// Attributes reports; an SSE-C object is read, ranged, copied and
// attributed only with its key, and refused clearly without it or with
// another, never quoting the key.
func TestServerSideEncryptionOnMinIO(t *testing.T) {
	testEnv(t)
	ctx := context.Background()
	endpoint, hc := tlsMinIO(t)
	rec := &recorder{base: hc.Transport}
	c := newClient(t, Options{
		Region: "us-east-1", Endpoint: endpoint, HTTPClient: &http.Client{Transport: rec}, UsePathStyle: true,
		Credentials: sigv4.StaticCredentials{AccessKeyID: "tls-user", SecretAccessKey: "tls-secret-key"},
	})
	b, _ := newBucket(t, c)
	// Everything below is logged and traced, keys included, and no
	// customer key may reach either.
	b, recorded := telemetrytest.Capture(t, b)

	require.NoError(t, blob.WriteAll(ctx, b, "sse-s3", []byte("service"), &blob.WriterOptions{Encryption: &blob.Encryption{ServiceManaged: true}}))
	a, err := b.Attributes(ctx, "sse-s3")
	require.NoError(t, err)
	require.Equal(t, &blob.EncryptionInfo{Kind: "service"}, a.Encryption)

	kms := &blob.Encryption{KMSKey: testKMSKey, KMSContext: map[string]string{"tenant": "42"}}
	require.NoError(t, blob.WriteAll(ctx, b, "sse-kms", []byte("kms"), &blob.WriterOptions{Encryption: kms}))
	a, err = b.Attributes(ctx, "sse-kms")
	require.NoError(t, err)
	require.Equal(t, "kms", a.Encryption.Kind)
	require.Contains(t, a.Encryption.KMSKey, testKMSKey)
	var put *http.Request
	for _, r := range rec.seen {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/sse-kms") {
			put = r
		}
	}
	require.NotNil(t, put, "the SSE-KMS write went through the recorder")
	require.Equal(t, base64.StdEncoding.EncodeToString([]byte(`{"tenant":"42"}`)), put.Header.Get("X-Amz-Server-Side-Encryption-Context"),
		"the encryption context goes as S3 documents it: base64 of its JSON")
	got, err := blob.ReadAll(ctx, b, "sse-kms")
	require.NoError(t, err)
	require.Equal(t, "kms", string(got))

	key := bytes.Repeat([]byte{0x5a}, 32)
	other := bytes.Repeat([]byte{0xa5}, 32)
	secrets := []string{base64.StdEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(other), string(key)}
	cust := &blob.Encryption{CustomerKey: key}
	for _, n := range []int{1000, 12<<20 + 5} {
		name := fmt.Sprintf("sse-c-%d", n)
		data := pattern(n, 4)
		require.NoError(t, blob.WriteAll(ctx, b, name, data, &blob.WriterOptions{Encryption: cust, PartSize: MinPartSize}))
		got, err := readWith(ctx, b, name, &blob.ReaderOptions{Encryption: cust})
		require.NoError(t, err)
		require.True(t, bytes.Equal(data, got), "%d bytes", n)
		r, err := b.NewRangeReader(ctx, name, 10, 20, &blob.ReaderOptions{Encryption: cust})
		require.NoError(t, err)
		part := make([]byte, 20)
		_, err = r.Read(part)
		r.Close()
		require.NoError(t, err)
		require.Equal(t, data[10:30], part)

		for what, err := range map[string]error{
			"read without the key": func() error { _, err := blob.ReadAll(ctx, b, name); return err }(),
			"read with another": func() error {
				_, err := readWith(ctx, b, name, &blob.ReaderOptions{Encryption: &blob.Encryption{CustomerKey: other}})
				return err
			}(),
			"attributes": func() error { _, err := b.Attributes(ctx, name); return err }(),
		} {
			require.ErrorIs(t, err, blob.ErrPermissionDenied, what)
			require.Contains(t, err.Error(), "customer key", what)
			for _, s := range secrets {
				require.NotContains(t, err.Error(), s, what)
			}
		}
	}

	// A copy of an SSE-C object gives the source's key and may re-encrypt.
	require.NoError(t, b.Copy(ctx, "copied", "sse-c-1000", &blob.CopyOptions{SourceEncryption: cust, Encryption: &blob.Encryption{CustomerKey: other}}))
	got, err = readWith(ctx, b, "copied", &blob.ReaderOptions{Encryption: &blob.Encryption{CustomerKey: other}})
	require.NoError(t, err)
	require.Equal(t, pattern(1000, 4), got)
	err = b.Copy(ctx, "copied2", "sse-c-1000", nil)
	require.ErrorIs(t, err, blob.ErrPermissionDenied)

	err = blob.WriteAll(ctx, b, "scope", []byte("x"), &blob.WriterOptions{Encryption: &blob.Encryption{Scope: "s"}})
	require.ErrorIs(t, err, blob.ErrNotImplemented)
	require.Contains(t, fmt.Sprintf("%v %+v %#v %s", cust, cust, cust, cust), "redacted")
	for _, s := range secrets {
		require.NotContains(t, fmt.Sprintf("%v %+v %#v %s", cust, cust, cust, cust), s)
	}
	out := recorded()
	require.Contains(t, out, `"msg":"blob op","op":"read"`, "the reads were logged")
	require.Contains(t, out, "permission_denied", "with the failures")
	for _, s := range append(secrets, hex.EncodeToString(key), hex.EncodeToString(other)) {
		require.NotContains(t, out, s, "no customer key in logs or spans")
	}
}

// readWith reads all of key with opts.
func readWith(ctx context.Context, b blob.Bucket, key string, opts *blob.ReaderOptions) ([]byte, error) {
	r, err := b.NewReader(ctx, key, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
