package blobtest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/aws"
	"github.com/anyblob/anyblob/providers/azure"
	"github.com/anyblob/anyblob/providers/gcp"
)

func TestEachRunsOnEveryBackendWithAFreshBucket(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var mu sync.Mutex
	seen := map[string]string{}
	blobtest.Each(t, func(t *testing.T, b blob.Bucket) {
		ctx := context.Background()
		page, err := b.List(ctx, nil)
		require.NoError(t, err)
		require.Empty(t, page.Objects, "fresh and empty")
		require.NoError(t, blob.WriteAll(ctx, b, "a/b.txt", []byte("hello"), nil))
		got, err := blob.ReadAll(ctx, b, "a/b.txt")
		require.NoError(t, err)
		require.Equal(t, "hello", string(got))
		mu.Lock()
		seen[t.Name()[strings.LastIndexByte(t.Name(), '/')+1:]] = fmt.Sprint(b)
		mu.Unlock()
	})
	require.Len(t, seen, len(blobtest.Backends), "every backend ran: %v", seen)
	for _, name := range []string{"s3", "azblob", "gs"} {
		require.Contains(t, seen[name], name+"://bt-eachruns", "a bucket named after the test")
	}
}

// TestBucketsAreRemoved checks that a test's bucket is gone after it,
// contents and all, on every emulator.
func TestBucketsAreRemoved(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx := context.Background()
	reopen := map[string]func(t *testing.T, name string) blob.Bucket{
		blobtest.S3: func(t *testing.T, name string) blob.Bucket {
			m := emulator.SharedMinIO(t)
			c, err := aws.New(ctx, aws.Options{Region: m.Region, Endpoint: m.Endpoint, UsePathStyle: true,
				Credentials: sigv4.StaticCredentials{AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey}})
			require.NoError(t, err)
			b, err := c.Bucket(name)
			require.NoError(t, err)
			return b
		},
		blobtest.Azure: func(t *testing.T, name string) blob.Bucket {
			c, err := azure.New(ctx, azure.Options{ConnectionString: emulator.SharedAzurite(t).ConnectionString})
			require.NoError(t, err)
			b, err := c.Bucket(name)
			require.NoError(t, err)
			return b
		},
		blobtest.GCS: func(t *testing.T, name string) blob.Bucket {
			b, err := gcp.OpenBucket(ctx, name, gcp.Options{Endpoint: emulator.SharedFakeGCS(t).Endpoint + "/storage/v1/", Anonymous: true})
			require.NoError(t, err)
			return b
		},
	}
	for backend, open := range reopen {
		var name string
		t.Run(backend, func(t *testing.T) {
			b := blobtest.Open(t, backend)
			name = strings.TrimPrefix(fmt.Sprint(b), backend+"://")
			require.NoError(t, blob.WriteAll(ctx, b, "left/behind", []byte("x"), nil))
		})
		b := open(t, name)
		_, err := b.List(ctx, nil)
		require.ErrorIs(t, err, blob.ErrNotFound, "%s: bucket %s is gone", backend, name)
		b.Close()
	}
}

func TestBucketFollowsCloudProvider(t *testing.T) {
	for provider, scheme := range map[string]string{"": "mem://", "mem": "mem://", "file": "file://"} {
		t.Run("CLOUD_PROVIDER="+provider, func(t *testing.T) {
			t.Setenv("CLOUD_PROVIDER", provider)
			t.Setenv("CLOUD_BUCKET", "")
			b := blobtest.Bucket(t)
			require.True(t, strings.HasPrefix(fmt.Sprint(b), scheme), "%s", b)
		})
	}
}

// TestConfiguredBucketGivesEachTestAPrefix points the file backend at a
// configured "cloud" directory (CLOUD_PROVIDER=file, CLOUD_BUCKET=dir), as
// a real cloud would be: each test works in a prefix of its own, which is
// deleted after it, and what else is in the bucket is left alone.
func TestConfiguredBucketGivesEachTestAPrefix(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CLOUD_PROVIDER", "file")
	t.Setenv("CLOUD_BUCKET", dir)
	ctx := context.Background()
	base, err := blob.OpenFromEnv(ctx)
	require.NoError(t, err)
	defer base.Close()
	require.NoError(t, blob.WriteAll(ctx, base, "someone-elses/data", []byte("keep"), nil))

	t.Run("inner", func(t *testing.T) {
		b := blobtest.Bucket(t)
		page, err := b.List(ctx, nil)
		require.NoError(t, err)
		require.Empty(t, page.Objects, "the test sees only its prefix")
		require.NoError(t, blob.WriteAll(ctx, b, "mine", []byte("x"), nil))
		all, err := base.List(ctx, &blob.ListOptions{Prefix: "blobtest/"})
		require.NoError(t, err)
		require.Len(t, all.Objects, 1)
		require.Regexp(t, `^blobtest/bt-configuredbucket[a-z-]*-[0-9a-f]{8}/mine$`, all.Objects[0].Key)
	})
	page, err := base.List(ctx, nil)
	require.NoError(t, err)
	require.Len(t, page.Objects, 1, "the prefix is gone after the test")
	require.Equal(t, "someone-elses/data", page.Objects[0].Key)
}
