// Package blobtest is for the tests of code written against blob.Bucket:
// a fresh, empty bucket in one line, on the backend the environment
// chooses or on every backend at once, with the emulators started once and
// shared, and faults to inject (Faults) for testing retry and error paths.
//
//	func TestReport(t *testing.T) {
//		blobtest.Each(t, func(t *testing.T, b blob.Bucket) {
//			require.NoError(t, SaveReport(t.Context(), b, report))
//			...
//		})
//	}
//
// # Backends
//
// mem (memory), file (a temporary directory), s3 (MinIO), azblob (Azurite)
// and gs (fake-gcs-server). The emulators are started once and shared by
// every test of the binary and by the test binaries after it (see
// emulator.SharedMinIO); each test gets a bucket or container of its own,
// created for it and deleted with its contents when it ends. An emulator
// that is not installed skips the test, or fails it with the install
// command when CI or ANYBLOB_REQUIRE_EMULATORS is set; install them with
// the project's scripts/install-emulators.sh.
//
// # Real clouds
//
// When CLOUD_BUCKET is set and CLOUD_PROVIDER names a backend, that
// backend's tests run in the configured bucket instead (opened as
// blob.OpenFromEnv does, with the provider's own credentials), each in a
// prefix of its own (blobtest/NAME-RANDOM/), which is deleted when the test
// ends.
package blobtest

import (
	"context"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/fileblob"
	"github.com/anyblob/anyblob/blob/memblob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/aws"
	"github.com/anyblob/anyblob/providers/azure"
	"github.com/anyblob/anyblob/providers/gcp"
)

// The backends, by the names Open takes.
const (
	Mem   = "mem"
	File  = "file"
	S3    = "s3"
	Azure = "azblob"
	GCS   = "gs"
)

// Backends lists every backend, in the order Each runs them.
var Backends = []string{Mem, File, S3, Azure, GCS}

// backendOf maps CLOUD_PROVIDER names and aliases to backends.
var backendOf = map[string]string{
	"": Mem, "mem": Mem, "memory": Mem, "file": File,
	"aws": S3, "s3": S3, "azure": Azure, "azblob": Azure, "gcp": GCS, "gs": GCS, "gcs": GCS,
}

// Bucket returns a fresh, empty bucket for t on the backend CLOUD_PROVIDER
// names (aws or s3, azure or azblob, gcp or gs, file, mem; memory when
// unset), as Open does. An unknown CLOUD_PROVIDER fails t.
func Bucket(t testing.TB) blob.Bucket {
	t.Helper()
	name := strings.ToLower(strings.TrimSpace(os.Getenv("CLOUD_PROVIDER")))
	backend, ok := backendOf[name]
	if !ok {
		t.Fatalf("blobtest: CLOUD_PROVIDER=%q names no backend (want one of aws, azure, gcp, file, mem)", name)
	}
	return Open(t, backend)
}

// Each runs fn as a subtest, named after the backend, on a fresh bucket of
// every backend in Backends. A backend whose emulator is not installed is
// skipped (or fails, under CI), as Open says.
func Each(t *testing.T, fn func(t *testing.T, b blob.Bucket)) {
	t.Helper()
	for _, backend := range Backends {
		t.Run(backend, func(t *testing.T) {
			fn(t, Open(t, backend))
		})
	}
}

// Open returns a fresh, empty bucket for t on backend (Mem, File, S3,
// Azure or GCS), closed and deleted, contents and all, when t ends. On a
// real cloud (see the package doc) it is a prefix of the configured bucket
// instead. An unknown backend, or a bucket that cannot be made, fails t.
func Open(t testing.TB, backend string) blob.Bucket {
	t.Helper()
	if b, ok := real(t, backend); ok {
		return b
	}
	ctx := context.Background()
	name := bucketName(t)
	var b blob.Bucket
	var remove func(ctx context.Context) error
	switch backend {
	case Mem:
		b = memblob.New(name)
	case File:
		fb, err := fileblob.Open(t.TempDir(), nil)
		if err != nil {
			t.Fatalf("blobtest: %v", err)
		}
		b = fb
	case S3:
		m := emulator.SharedMinIO(t)
		c, err := aws.New(ctx, aws.Options{Region: m.Region, Endpoint: m.Endpoint, UsePathStyle: true,
			Credentials: sigv4.StaticCredentials{AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey}})
		if err == nil {
			err = c.CreateBucket(ctx, name)
		}
		if err == nil {
			b, err = c.Bucket(name)
		}
		if err != nil {
			t.Fatalf("blobtest: a bucket on MinIO: %v", err)
		}
		remove = func(ctx context.Context) error { return c.DeleteBucket(ctx, name) }
	case Azure:
		a := emulator.SharedAzurite(t)
		c, err := azure.New(ctx, azure.Options{ConnectionString: a.ConnectionString})
		if err == nil {
			err = c.CreateContainer(ctx, name)
		}
		if err == nil {
			b, err = c.Bucket(name)
		}
		if err != nil {
			t.Fatalf("blobtest: a container on Azurite: %v", err)
		}
		remove = func(ctx context.Context) error { return c.DeleteContainer(ctx, name) }
	case GCS:
		g := emulator.SharedFakeGCS(t)
		key, err := signerKey()
		if err != nil {
			t.Fatalf("blobtest: %v", err)
		}
		c, err := gcp.New(ctx, gcp.Options{Endpoint: g.Endpoint + "/storage/v1/", Anonymous: true, Project: "blobtest",
			SignerEmail: signerEmail, SignerKey: key})
		if err == nil {
			err = c.CreateBucket(ctx, name)
		}
		if err == nil {
			b, err = c.Bucket(name)
		}
		if err != nil {
			t.Fatalf("blobtest: a bucket on fake-gcs-server: %v", err)
		}
		remove = func(ctx context.Context) error {
			err := c.DeleteBucket(ctx, name)
			c.Close()
			return err
		}
	default:
		t.Fatalf("blobtest: unknown backend %q (want one of %s)", backend, strings.Join(Backends, ", "))
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if remove != nil {
			// Whatever the test left, then the bucket itself.
			if _, err := blob.DeletePrefix(ctx, b, ""); err != nil {
				t.Errorf("blobtest: emptying %s bucket %s: %v", backend, name, err)
			} else if err := remove(ctx); err != nil {
				t.Errorf("blobtest: deleting %s bucket %s: %v", backend, name, err)
			}
		}
		b.Close()
	})
	return b
}

// real returns a prefix of the configured cloud bucket when CLOUD_BUCKET
// is set and CLOUD_PROVIDER names backend.
func real(t testing.TB, backend string) (blob.Bucket, bool) {
	t.Helper()
	if os.Getenv("CLOUD_BUCKET") == "" || backend == Mem {
		return nil, false
	}
	if b, ok := backendOf[strings.ToLower(strings.TrimSpace(os.Getenv("CLOUD_PROVIDER")))]; !ok || b != backend {
		return nil, false
	}
	ctx := context.Background()
	base, err := blob.OpenFromEnv(ctx)
	if err != nil {
		t.Fatalf("blobtest: the configured bucket (CLOUD_PROVIDER, CLOUD_BUCKET): %v", err)
	}
	prefix := "blobtest/" + bucketName(t) + "/"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := blob.DeletePrefix(ctx, base, prefix); err != nil {
			t.Errorf("blobtest: cleaning %s in the configured bucket: %v", prefix, err)
		}
		base.Close()
	})
	return blob.Prefixed(blob.Borrow(base), prefix), true
}

// signerEmail and signerKey sign URLs on fake-gcs-server (which does not
// check them), so that code making signed URLs runs there too.
const signerEmail = "blobtest@blobtest.iam.gserviceaccount.com"

var signerKey = sync.OnceValues(func() ([]byte, error) {
	k, err := rsa.GenerateKey(crand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("a signing key for fake-gcs-server: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
})

var notName = regexp.MustCompile(`[^a-z0-9]+`)

// bucketName is a name valid on every backend (3 to 63 lower-case letters,
// digits and single '-'), from the test's name and a random tag.
func bucketName(t testing.TB) string {
	base := strings.Trim(notName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	base = strings.TrimLeft(strings.TrimPrefix(base, "test"), "-")
	if len(base) > 40 {
		base = strings.Trim(base[:40], "-")
	}
	if base == "" {
		base = "t"
	}
	return fmt.Sprintf("bt-%s-%08x", base, rand.Uint32())
}
