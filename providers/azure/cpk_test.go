package azure_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/internal/telemetrytest"
	"github.com/anyblob/anyblob/providers/azure"
)

// headerLog is a transport that keeps the headers of the requests it
// sends, for what Azurite does not check.
type headerLog struct {
	mu   sync.Mutex
	sent []http.Header
}

func (l *headerLog) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	h := r.Header.Clone()
	h.Set("Test-Request", r.Method+" "+r.URL.String())
	l.sent = append(l.sent, h)
	l.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (l *headerLog) take() []http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.sent
	l.sent = nil
	return out
}

// TestEncryptionOnAzurite writes with a customer-provided key and with an
// encryption scope. Azurite implements neither: in its default strict
// mode it refuses them (FeatureNotSupported, which must be
// ErrNotImplemented, not retried); in loose mode it ignores them and
// stores data as sent, so what is checked is what the service is sent:
// the key and its SHA-256 on every request that writes or reads the blob,
// the scope on every request that writes it; and the portable refusals.
func TestEncryptionOnAzurite(t *testing.T) {
	ctx := context.Background()
	strict := emulator.Azurite(t, nil)
	sc, err := azure.New(ctx, azure.Options{ConnectionString: strict.ConnectionString})
	require.NoError(t, err)
	require.NoError(t, sc.CreateContainer(ctx, "strict"))
	sb, err := sc.Bucket("strict")
	require.NoError(t, err)
	err = blob.WriteAll(ctx, sb, "k", []byte("x"), &blob.WriterOptions{Encryption: &blob.Encryption{CustomerKey: bytes.Repeat([]byte{1}, 32)}})
	require.ErrorIs(t, err, blob.ErrNotImplemented)
	require.Contains(t, err.Error(), "FeatureNotSupported")

	srv := emulator.Azurite(t, &emulator.AzuriteOptions{Loose: true})
	log := &headerLog{}
	c, err := azure.New(ctx, azure.Options{ConnectionString: srv.ConnectionString,
		ClientOptions: &service.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: log}}}})
	require.NoError(t, err)
	require.NoError(t, c.CreateContainer(ctx, "enc"))
	b, err := c.Bucket("enc")
	require.NoError(t, err)
	// Everything below is logged and traced, keys included, and no
	// customer key may reach either.
	b, recorded := telemetrytest.Capture(t, b)

	key := bytes.Repeat([]byte{0x42}, 32)
	sum := sha256.Sum256(key)
	cust := &blob.Encryption{CustomerKey: key}
	for _, n := range []int{1000, 9<<20 + 3} {
		name := fmt.Sprintf("cpk-%d", n)
		data := bytes.Repeat([]byte("k"), n)
		log.take()
		require.NoError(t, blob.WriteAll(ctx, b, name, data, &blob.WriterOptions{Encryption: cust, PartSize: azure.MinBlockSize}))
		writes := log.take()
		require.NotEmpty(t, writes)

		for _, h := range writes {
			require.Equal(t, "AES256", hget(h, "X-Ms-Encryption-Algorithm"), h.Get("Test-Request"))
			require.Equal(t, key, must64(t, hget(h, "X-Ms-Encryption-Key")))
			require.Equal(t, sum[:], must64(t, hget(h, "X-Ms-Encryption-Key-Sha256")))
		}
		r, err := b.NewReader(ctx, name, &blob.ReaderOptions{Encryption: cust})
		require.NoError(t, err)
		got, err := io.ReadAll(r)
		r.Close()
		require.NoError(t, err)
		require.Equal(t, data, got)
		for _, h := range log.take() {
			require.Equal(t, sum[:], must64(t, hget(h, "X-Ms-Encryption-Key-Sha256")), "the read carries the key")
		}
	}

	require.NoError(t, blob.WriteAll(ctx, b, "scoped", []byte("s"), &blob.WriterOptions{Encryption: &blob.Encryption{Scope: "tenant-scope"}}))
	for _, h := range log.take() {
		if hget(h, "X-Ms-Blob-Type") != "" {
			require.Equal(t, "tenant-scope", hget(h, "X-Ms-Encryption-Scope"))
		}
	}

	err = blob.WriteAll(ctx, b, "kms", []byte("x"), &blob.WriterOptions{Encryption: &blob.Encryption{KMSKey: "k"}})
	require.ErrorIs(t, err, blob.ErrNotImplemented)
	require.Contains(t, err.Error(), "encryption scope")
	err = b.Copy(ctx, "copy", "cpk-1000", &blob.CopyOptions{SourceEncryption: cust})
	require.ErrorIs(t, err, blob.ErrNotImplemented)
	err = blob.WriteAll(ctx, b, "short", []byte("x"), &blob.WriterOptions{Encryption: &blob.Encryption{CustomerKey: []byte("short")}})
	require.ErrorIs(t, err, blob.ErrInvalidArgument)

	out := recorded()
	require.Contains(t, out, `"msg":"blob op","op":"read"`, "the reads were logged")
	require.Contains(t, out, "not_implemented", "with the failures")
	for _, s := range []string{base64.StdEncoding.EncodeToString(key), hex.EncodeToString(key), string(key)} {
		require.NotContains(t, out, s, "no customer key in logs or spans")
	}
}

func must64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64Decode(s)
	require.NoError(t, err, s)
	return b
}

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// hget reads a header whatever the case of its key: the SDK sets its own
// headers with lower-case keys, which http.Header.Get does not find.
func hget(h http.Header, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
