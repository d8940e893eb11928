package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/aws"
)

// minioEnv points the AWS chain of the command at MinIO s's keys only: a
// home of its own, no metadata server, no session token, no profile.
func minioEnv(t *testing.T, s *emulator.MinIOServer) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
}

// TestOnMinIO runs the command against S3 (a local MinIO) by URL, and
// fetches a presigned URL it prints with plain net/http.
func TestOnMinIO(t *testing.T) {
	s := emulator.MinIO(t)
	c, err := aws.New(context.Background(), aws.Options{Region: s.Region, Endpoint: s.Endpoint,
		Credentials: sigv4.StaticCredentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey}})
	require.NoError(t, err)
	require.NoError(t, c.CreateBucket(context.Background(), "cli"))
	minioEnv(t, s)
	cl := &cli{t: t, bucket: "s3://cli?" + url.Values{"region": {s.Region}, "endpoint": {s.Endpoint}}.Encode()}

	cl.ok("from the command line\n", "cp", "-content-type", "text/plain", "-", ":notes/today.txt")
	require.Equal(t, "from the command line\n", cl.ok("", "cat", "notes/today.txt"))
	require.Contains(t, cl.ok("", "ls", "-r"), "notes/today.txt\n")

	u := strings.TrimSpace(cl.ok("", "presign", "-expires", "5m", "notes/today.txt"))
	resp, err := http.Get(u)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Equal(t, "from the command line\n", string(body))

	require.Equal(t, "deleted 1 object under notes/\n", cl.ok("", "rm", "-r", "notes/"))
	code, _, _ := cl.run("", "cat", "notes/today.txt")
	require.Equal(t, 3, code)
}
