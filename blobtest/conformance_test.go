package blobtest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest"
	"github.com/anyblob/anyblob/conformance"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/aws"
)

// TestConformanceInOneBucket runs the whole suite through
// conformance.InBucket inside a single bucket (or container) per cloud,
// on the shared emulators, with the key limits learnt from the driver.
func TestConformanceInOneBucket(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Run("s3", func(t *testing.T) {
		// MinIO with escape_keys, so that every portable key is stored as
		// it is (issue 14 is about MinIO's default options).
		m := emulator.SharedMinIO(t)
		c, err := aws.New(context.Background(), aws.Options{Region: m.Region, Endpoint: m.Endpoint, UsePathStyle: true, EscapeKeys: true,
			Credentials: sigv4.StaticCredentials{AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey}})
		require.NoError(t, err)
		base := blobtest.Open(t, blobtest.S3)
		name := fmt.Sprint(base)[len("s3://"):]
		b, err := c.Bucket(name)
		require.NoError(t, err)
		l, err := blob.LimitsOf(context.Background(), b)
		require.NoError(t, err)
		require.Equal(t, 253, l.MaxSingleKeyLen(), "MinIO's segment limit, learnt from the server, less the escaping")
		conformance.Run(t, conformance.InBucket(b, "suite/"))
	})
	t.Run("azblob", func(t *testing.T) {
		conformance.Run(t, conformance.InBucket(blobtest.Open(t, blobtest.Azure), "suite/"))
	})
	t.Run("gs", func(t *testing.T) {
		h := conformance.InBucket(blobtest.Open(t, blobtest.GCS), "suite/")
		h.UncheckedSignedURLs = "fake-gcs-server serves signed URLs without checking signature or expiry"
		h.Lacks = map[conformance.Capability]string{conformance.Tags: "GCS objects have no tags"}
		conformance.Run(t, h)
	})
}
