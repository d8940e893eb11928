package aws

import (
	"testing"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance"
	"github.com/anyblob/anyblob/conformance/emulator"
)

func TestConformance(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	opts := minioOptions(ep)
	opts.UsePathStyle = true
	opts.EscapeKeys = true
	c := newClient(t, opts)
	t.Run("path style", func(t *testing.T) {
		conformance.Run(t, conformance.Harness{
			Open: func(t *testing.T) blob.Bucket {
				b, _ := newBucket(t, c)
				return b
			},
		})
	})
	t.Run("prefixed", func(t *testing.T) {
		const prefix = "some/prefix/"
		conformance.Run(t, conformance.Harness{
			Open: func(t *testing.T) blob.Bucket {
				b, _ := newBucket(t, c)
				return blob.Prefixed(b, prefix)
			},
		})
	})
}

// TestConformanceDefaultOptions runs the suite on MinIO as a user opens
// it, with no key options: the keys MinIO would store under another name
// and the objects it cannot hold beside folders are declared by the
// driver (blob.Limits) and checked to be refused.
func TestConformanceDefaultOptions(t *testing.T) {
	testEnv(t)
	c := newClient(t, minioOptions(emulator.MinIO(t)))
	conformance.Run(t, conformance.Harness{
		Open: func(t *testing.T) blob.Bucket {
			b, _ := newBucket(t, c)
			return b
		},
	})
}

// TestConformanceTLS runs the suite virtual-hosted over https: unsigned
// payloads with CRC32C checksums instead of signed SHA-256s.
func TestConformanceTLS(t *testing.T) {
	testEnv(t)
	endpoint, hc := tlsMinIO(t)
	c := newClient(t, Options{
		Region: "us-east-1", Endpoint: endpoint, EscapeKeys: true, HTTPClient: hc,
		Credentials: sigv4.StaticCredentials{AccessKeyID: "tls-user", SecretAccessKey: "tls-secret-key"},
	})
	conformance.Run(t, conformance.Harness{
		Open: func(t *testing.T) blob.Bucket {
			b, _ := newBucket(t, c)
			return b
		},
		HTTPClient: hc,
	})
}
