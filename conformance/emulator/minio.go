package emulator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// MinIOServer is a running MinIO, an S3-compatible server.
type MinIOServer struct {
	// Endpoint is the S3 endpoint, "http://127.0.0.1:PORT"; use path-style
	// addressing with it.
	Endpoint string
	// AccessKey and SecretKey are the root credentials.
	AccessKey, SecretKey string
	// Region is the region MinIO signs for: "us-east-1".
	Region string
	// Dir is the server's data directory.
	Dir string
	// CAFile, for a server started by MinIOTLS, is the PEM file of the
	// certificate it serves (self-signed, for 127.0.0.1), for clients to
	// trust (SSL_CERT_FILE for Go programs, AWS_CA_BUNDLE for the aws CLI,
	// curl --cacert); "" for plain http.
	CAFile string
}

// MinIO starts a MinIO server in single-drive mode with its own temporary
// directory, waits until its health check and its S3 API answer, and stops it when t ends.
// A missing binary fails or skips t as the package doc says.
func MinIO(t testing.TB) *MinIOServer {
	t.Helper()
	return startMinIO(t, false)
}

// MinIOTLS is MinIO over https: Endpoint is "https://127.0.0.1:PORT",
// served with a self-signed certificate for 127.0.0.1 made for this
// server, whose PEM is CAFile. Everything else is as for MinIO.
func MinIOTLS(t testing.TB) *MinIOServer {
	t.Helper()
	return startMinIO(t, true)
}

// startMinIO starts MinIO for MinIO and MinIOTLS.
func startMinIO(t testing.TB, withTLS bool) *MinIOServer {
	t.Helper()
	bin := find(t, "minio")
	dir := t.TempDir()
	s := &MinIOServer{
		AccessKey: "anyblob-test",
		SecretKey: "anyblob-test-secret-key",
		Region:    "us-east-1",
		Dir:       dir,
	}
	p := port(t)
	s.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", p)
	client := loopbackClient
	var extra []string
	if withTLS {
		s.Dir = filepath.Join(dir, "data")
		certs := filepath.Join(dir, "certs")
		pool, err := writeSelfSigned(certs)
		if err != nil {
			t.Fatalf("emulator: a certificate for MinIO: %v", err)
		}
		s.CAFile = filepath.Join(certs, "public.crt")
		s.Endpoint = fmt.Sprintf("https://127.0.0.1:%d", p)
		client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
		extra = []string{"--certs-dir", certs}
	}
	args, env := minioCommand(s, p)
	args = append(append(args[:len(args)-1], extra...), s.Dir)
	proc := start(t, "minio", bin, args, env)
	proc.waitReady(t, minioReady(client, s))
	return s
}

// writeSelfSigned writes a self-signed ECDSA certificate for 127.0.0.1
// and its key into dir as MinIO's --certs-dir wants them (public.crt,
// private.key), and returns a pool that trusts it.
func writeSelfSigned(dir string) (*x509.CertPool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "anyblob emulator"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "public.crt"), crt, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "private.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(crt)
	return pool, nil
}

// minioCommand is the command line and environment of a MinIO server s on
// port p (s.Dir holds its data).
func minioCommand(s *MinIOServer, p int) (args, env []string) {
	console, err := FreePort()
	if err != nil {
		console = p + 1
	}
	return []string{"server", "--quiet", "--address", fmt.Sprintf("127.0.0.1:%d", p),
			"--console-address", fmt.Sprintf("127.0.0.1:%d", console), s.Dir},
		[]string{
			"MINIO_ROOT_USER=" + s.AccessKey,
			"MINIO_ROOT_PASSWORD=" + s.SecretKey,
			"MINIO_REGION=" + s.Region,
			"MINIO_BROWSER=off",
			"MINIO_UPDATE=off",
			"MINIO_CI_CD=on",
		}
}

// minioReady checks that s answers S3 through client: the health check
// can pass while the S3 API still answers 503 ("Server not initialized");
// ready means an unsigned S3 call gets its 403.
func minioReady(client *http.Client, s *MinIOServer) func(ctx context.Context) error {
	health := httpReady(client, s.Endpoint+"/minio/health/ready", 200)
	s3 := httpReady(client, s.Endpoint+"/", 403)
	return func(ctx context.Context) error {
		if err := health(ctx); err != nil {
			return err
		}
		return s3(ctx)
	}
}
