package aws

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
)

var bucketSeq atomic.Int64

// runID keeps bucket names unique across runs against a reused server.
var runID = fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)

// testEnv isolates a test from the machine's AWS setup.
func testEnv(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/credentials")
}

// minioOptions are client options for ep; edit may change them.
func minioOptions(ep *emulator.MinIOServer) Options {
	return Options{
		Region:      ep.Region,
		Endpoint:    ep.Endpoint,
		Credentials: sigv4.StaticCredentials{AccessKeyID: ep.AccessKey, SecretAccessKey: ep.SecretKey},
		Retry:       RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond},
	}
}

func newClient(t testing.TB, opts Options) *Client {
	t.Helper()
	c, err := New(context.Background(), opts)
	require.NoError(t, err)
	return c
}

// newBucket creates a fresh bucket through c and returns it wrapped; the
// bucket is emptied and deleted when t ends.
func newBucket(t testing.TB, c *Client) (blob.Bucket, string) {
	t.Helper()
	name := fmt.Sprintf("t-%s-%d", runID, bucketSeq.Add(1))
	ctx := context.Background()
	require.NoError(t, c.CreateBucket(ctx, name))
	b, err := c.Bucket(name)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = blob.DeletePrefix(ctx, b, "")
		if ups, err := c.ListMultipartUploads(ctx, name, ""); err == nil {
			for _, u := range ups {
				_ = c.abortUpload(ctx, name, u.Key, u.UploadID)
			}
		}
		_ = c.DeleteBucket(ctx, name)
	})
	return b, name
}

// requireNoUploads asserts that no multipart upload is left in bucket.
func requireNoUploads(t *testing.T, c *Client, bucket string) {
	t.Helper()
	ups, err := c.ListMultipartUploads(context.Background(), bucket, "")
	require.NoError(t, err)
	require.Empty(t, ups, "orphaned multipart uploads")
}

// requireAbsent asserts that key is not visible in b.
func requireAbsent(t *testing.T, b blob.Bucket, key string) {
	t.Helper()
	_, err := b.Attributes(context.Background(), key)
	require.ErrorIs(t, err, blob.ErrNotFound)
}

// pattern returns n bytes that differ with seed and position.
func pattern(n int, seed byte) []byte {
	p := make([]byte, n)
	x := uint32(seed) + 1
	for i := range p {
		x = x*1664525 + 1013904223
		p[i] = byte(x >> 24)
	}
	return p
}
