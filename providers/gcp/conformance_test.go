package gcp_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/gcp"
)

var bucketSeq atomic.Int64

// harness runs the suite on one fake-gcs-server, a new bucket per check.
func harness(t *testing.T) conformance.Harness { return harnessWith(t, false) }

// harnessWith is harness, with composed writes when compose is true.
func harnessWith(t *testing.T, compose bool) conformance.Harness {
	srv := emulator.FakeGCS(t)
	c, err := gcp.New(context.Background(), gcp.Options{
		Endpoint: srv.Endpoint, Anonymous: true, Project: "test-project",
		SignerEmail: testSignerEmail, SignerKey: testKeyPEM(t), ComposeWrites: compose,
	})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return conformance.Harness{
		Open: func(t *testing.T) blob.Bucket {
			name := fmt.Sprintf("conformance-%d", bucketSeq.Add(1))
			require.NoError(t, c.CreateBucket(context.Background(), name))
			b, err := c.Bucket(name)
			require.NoError(t, err)
			return b
		},
		Lacks:               map[conformance.Capability]string{conformance.Tags: "GCS objects have no tags"},
		UncheckedSignedURLs: "fake-gcs-server serves signed URLs without checking signature or expiry; signing is checked against the V4 algorithm in signedurl_test.go",
	}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, harness(t))
}

func TestConformancePrefixed(t *testing.T) {
	conformance.Run(t, conformance.Prefixed(harness(t), "pre/fix/"))
}

// TestConformanceComposed runs the suite with composed writes: its large
// writes go in parts composed at Close, and must keep every guarantee.
func TestConformanceComposed(t *testing.T) {
	conformance.Run(t, harnessWith(t, true))
}
