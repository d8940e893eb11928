package aws

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
)

// tlsDomain is the S3 domain of the TLS MinIO: BUCKET.s3.test addresses a
// bucket virtual-hosted style. Every name is dialed at 127.0.0.1.
const tlsDomain = "s3.test"

// tlsMinIO starts MinIO over https with a fresh certificate for s3.test
// and *.s3.test, with virtual-hosted buckets on, and returns an http.Client
// that trusts it and dials every host on loopback.
// testKMSKey is the name of the TLS MinIO's static KMS key.
const testKMSKey = "anyblob-kms"

func tlsMinIO(t *testing.T) (endpoint string, hc *http.Client) {
	t.Helper()
	bin, err := emulator.Find("minio")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	certs := t.TempDir()
	pool := writeCert(t, certs)
	port, err := emulator.FreePort()
	require.NoError(t, err)
	console, err := emulator.FreePort()
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "server", "--quiet", "--address", addr, "--console-address", fmt.Sprintf("127.0.0.1:%d", console), "--certs-dir", certs, t.TempDir())
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER=tls-user", "MINIO_ROOT_PASSWORD=tls-secret-key", "MINIO_DOMAIN="+tlsDomain,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=on", "MINIO_REGION=us-east-1",
		// A static KMS key, so SSE-S3 and SSE-KMS work (SSE-C needs TLS only).
		"MINIO_KMS_SECRET_KEY="+testKMSKey+":"+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		})
	})
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		DisableCompression: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	hc = &http.Client{Transport: tr}
	endpoint = fmt.Sprintf("https://%s:%d", tlsDomain, port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := hc.Get(endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return endpoint, hc
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("MinIO over TLS did not start: %v\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeCert writes a self-signed certificate for tlsDomain into dir as
// MinIO wants it, and returns a pool that trusts it.
func writeCert(t *testing.T, dir string) *x509.CertPool {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: tlsDomain},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		DNSNames:              []string{tlsDomain, "*." + tlsDomain},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "public.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "private.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// recorder notes the requests a client sends.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Clone(context.Background()))
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

func TestOverTLSVirtualHosted(t *testing.T) {
	testEnv(t)
	endpoint, hc := tlsMinIO(t)
	rec := &recorder{base: hc.Transport}
	c := newClient(t, Options{
		Region: "us-east-1", Endpoint: endpoint,
		Credentials: sigv4.StaticCredentials{AccessKeyID: "tls-user", SecretAccessKey: "tls-secret-key"},
		HTTPClient:  &http.Client{Transport: rec},
	})
	b, name := newBucket(t, c)
	ctx := context.Background()

	small := []byte("over tls")
	large := pattern(11<<20, 5)
	require.NoError(t, blob.WriteAll(ctx, b, "small", small, nil))
	require.NoError(t, blob.WriteAll(ctx, b, "large", large, &blob.WriterOptions{PartSize: MinPartSize}))
	for key, want := range map[string][]byte{"small": small, "large": large} {
		got, err := blob.ReadAll(ctx, b, key)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), key)
	}
	requireNoUploads(t, c, name)

	rec.mu.Lock()
	var bodies int
	for _, req := range rec.seen {
		require.Equal(t, name+"."+tlsDomain, req.URL.Hostname(), "virtual-hosted: %s %s", req.Method, req.URL)
		if req.ContentLength > 0 && req.Method == http.MethodPut {
			bodies++
			require.Equal(t, unsignedPayload, req.Header.Get("X-Amz-Content-Sha256"), "%s %s", req.Method, req.URL)
			require.NotEmpty(t, req.Header.Get("X-Amz-Checksum-Crc32c"), "%s %s", req.Method, req.URL)
		}
	}
	rec.mu.Unlock()
	require.GreaterOrEqual(t, bodies, 4, "PutObject and three parts")

	// The server checks the CRC32C of an unsigned payload.
	_, err := c.Do(ctx, &Request{Method: http.MethodPut, Bucket: name, Key: "bad", Body: []byte("payload"),
		Header: http.Header{"X-Amz-Checksum-Crc32c": {crc32cBase64([]byte("other"))}}})
	var s3err *Error
	require.ErrorAs(t, err, &s3err)
	require.Equal(t, http.StatusBadRequest, s3err.Status)
	require.Equal(t, blob.ErrInvalidArgument, kind(err))
	requireAbsent(t, b, "bad")

	u, err := b.SignedURL(ctx, "small", nil)
	require.NoError(t, err)
	resp, err := hc.Get(u)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, small, got)
}
