package emulator

import (
	"context"
	"fmt"
	"testing"
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
}

// MinIO starts a MinIO server in single-drive mode with its own temporary
// directory, waits until its health check and its S3 API answer, and stops it when t ends.
// A missing binary fails or skips t as the package doc says.
func MinIO(t testing.TB) *MinIOServer {
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
	args, env := minioCommand(s, p)
	proc := start(t, "minio", bin, args, env)
	proc.waitReady(t, minioReady(s))
	return s
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

// minioReady checks that s answers S3: the health check can pass while
// the S3 API still answers 503 ("Server not initialized"); ready means an
// unsigned S3 call gets its 403.
func minioReady(s *MinIOServer) func(ctx context.Context) error {
	health := httpReady(loopbackClient, s.Endpoint+"/minio/health/ready", 200)
	s3 := httpReady(loopbackClient, s.Endpoint+"/", 403)
	return func(ctx context.Context) error {
		if err := health(ctx); err != nil {
			return err
		}
		return s3(ctx)
	}
}
