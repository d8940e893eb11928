package gcp_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/api/option"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/internal/telemetrytest"
	"github.com/anyblob/anyblob/providers/gcp"
)

// wire is a proxy in front of fake-gcs-server that keeps each request's
// line, headers and body.
type wire struct {
	mu   sync.Mutex
	reqs []string
	url  string
}

func newWire(t *testing.T, target string) *wire {
	u, err := url.Parse(target)
	require.NoError(t, err)
	w := &wire{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var b strings.Builder
		b.WriteString(r.Method + " " + r.URL.String() + "\n")
		for k, v := range r.Header {
			b.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
		if !bytes.Contains(body, []byte("payload-bytes")) {
			b.Write(body)
		}
		w.mu.Lock()
		w.reqs = append(w.reqs, b.String())
		w.mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/csek") && r.Method == http.MethodGet && r.Header.Get("X-Goog-Encryption-Key") == "" {
			// What GCS answers a read of a CSEK object without its key;
			// fake-gcs-server keeps no keys, so it is played here.
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusBadRequest)
			io.WriteString(rw, `{"error":{"code":400,"message":"The target object is encrypted by a customer-supplied encryption key.","errors":[{"message":"The target object is encrypted by a customer-supplied encryption key.","domain":"global","reason":"resourceIsEncryptedWithCustomerEncryptionKey"}]}}`)
			return
		}
		r.Host = u.Host
		proxy.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

func (w *wire) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.reqs
	w.reqs = nil
	return out
}

// TestEncryptionOnFakeGCS writes with a customer-supplied key (CSEK) and
// with a Cloud KMS key (CMEK). fake-gcs-server implements neither (it
// keeps data as sent and ignores both), so what is checked is what GCS is
// sent: the key's headers on the upload and on the read, the key name on
// the upload; GCS's answer to a read without the key (played by the
// proxy) becomes a clear ErrPermissionDenied; and the portable refusals.
func TestEncryptionOnFakeGCS(t *testing.T) {
	ctx := context.Background()
	srv := emulator.FakeGCS(t, "enc")
	w := newWire(t, srv.Endpoint)
	c, err := gcp.New(ctx, gcp.Options{Endpoint: w.url + "/storage/v1/", Anonymous: true,
		ClientOptions: []option.ClientOption{option.WithHTTPClient(http.DefaultClient)}})
	require.NoError(t, err)
	defer c.Close()
	b, err := c.Bucket("enc")
	require.NoError(t, err)
	// Everything below is logged and traced, keys included, and no
	// customer key may reach either.
	b, recorded := telemetrytest.Capture(t, b)

	key := bytes.Repeat([]byte{0x33}, 32)
	sum := sha256.Sum256(key)
	cust := &blob.Encryption{CustomerKey: key}
	w.take()
	require.NoError(t, blob.WriteAll(ctx, b, "csek", []byte("payload-bytes"), &blob.WriterOptions{Encryption: cust}))
	up := strings.Join(w.take(), "\n")
	require.Contains(t, up, "X-Goog-Encryption-Algorithm: AES256")
	require.Contains(t, up, "X-Goog-Encryption-Key: "+base64.StdEncoding.EncodeToString(key))
	require.Contains(t, up, "X-Goog-Encryption-Key-Sha256: "+base64.StdEncoding.EncodeToString(sum[:]))
	r, err := b.NewReader(ctx, "csek", &blob.ReaderOptions{Encryption: cust})
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	r.Close()
	require.NoError(t, err)
	require.Equal(t, "payload-bytes", string(got))
	require.Contains(t, strings.Join(w.take(), "\n"), "X-Goog-Encryption-Key-Sha256: "+base64.StdEncoding.EncodeToString(sum[:]), "the read carries the key")

	_, err = blob.ReadAll(ctx, b, "csek")
	require.ErrorIs(t, err, blob.ErrPermissionDenied, "a read without the key says what to do")
	require.Contains(t, err.Error(), "give it in ReaderOptions.Encryption")
	w.take()

	kms := "projects/p/locations/l/keyRings/r/cryptoKeys/k"
	require.NoError(t, blob.WriteAll(ctx, b, "cmek", []byte("payload-bytes"), &blob.WriterOptions{Encryption: &blob.Encryption{KMSKey: kms}}))
	require.Contains(t, strings.Join(w.take(), "\n"), "kmsKeyName="+url.QueryEscape(kms), "the upload names the KMS key")

	for _, e := range []*blob.Encryption{{Scope: "s"}, {KMSKey: "k", KMSContext: map[string]string{"a": "b"}}} {
		err := blob.WriteAll(ctx, b, "refused", []byte("x"), &blob.WriterOptions{Encryption: e})
		require.ErrorIs(t, err, blob.ErrNotImplemented, "%v", e)
	}
	require.Empty(t, w.take(), "refused before any request")

	out := recorded()
	require.Contains(t, out, `"msg":"blob op","op":"read"`, "the reads were logged")
	require.Contains(t, out, "permission_denied", "with the failures")
	for _, s := range []string{base64.StdEncoding.EncodeToString(key), hex.EncodeToString(key), string(key)} {
		require.NotContains(t, out, s, "no customer key in logs or spans")
	}
}
