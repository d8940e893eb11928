package all_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
	"github.com/anyblob/anyblob/blobtest/netsim"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/aws"
	"github.com/anyblob/anyblob/providers/azure"
	"github.com/anyblob/anyblob/providers/gcp"
)

// faulty is one cloud's emulator behind a seeded fault proxy.
type faulty struct {
	name  string
	proxy *faultproxy.Proxy
	// link is the far link in front of proxy (faultyBackendsWith with
	// reads.link), else nil.
	link *netsim.Proxy
	// open returns a bucket through the proxy with policy; direct one
	// straight to the emulator.
	open   func(t *testing.T, policy blob.RetryPolicy) blob.Bucket
	direct blob.Bucket
	// isWrite matches the requests that carry object data (a single
	// upload, a part, a block, a chunk); isRead the ones that fetch it.
	isWrite, isRead func(r *http.Request) bool
	// isCommit matches the request that makes a multipart write visible.
	isCommit func(r *http.Request) bool
	// rangesChecked is true where the service sends a checksum for a
	// range (Azure, up to 4 MiB at a time); S3 and GCS send none, so a
	// range read there is not verified, only a full read is.
	rangesChecked bool
	// failedWriteMayDelete is true where a failed write may leave the key
	// absent: on fake-gcs-server, which stores a resent chunk twice and
	// does not check the CRC32C GCS checks, the GCS writer finds the
	// stored object wrong after the fact and deletes it.
	failedWriteMayDelete bool
	// partSize is the smallest part the backend's writer uses, so that a
	// few parts make a multipart write.
	partSize int
	// uploads counts the multipart uploads left in the bucket; nil where
	// the service has none a user can see or is billed for (Azure's
	// uncommitted blocks and GCS's resumable sessions expire on their own).
	uploads func(t *testing.T) int
}

// fastRetry is a retry policy with short waits, for tests.
var fastRetry = blob.RetryPolicy{BaseDelay: 1e6, MaxDelay: 20e6} // 1ms..20ms

func isMethod(methods ...string) func(r *http.Request) bool {
	return func(r *http.Request) bool {
		for _, m := range methods {
			if r.Method == m {
				return true
			}
		}
		return false
	}
}

// faultyBackends starts MinIO, Azurite and fake-gcs-server, each with a
// bucket named bucket, behind a fault proxy seeded with seed. Their
// buckets read in one stream: a parallel read closes its first answer at
// a part boundary, so a byte the proxy flips past it is never read, and
// these tests want every flip read (TestParallelReadsOnEveryCloud has
// parallel reads meet faults).
func faultyBackends(t *testing.T, bucket string, seed uint64) []*faulty {
	return faultyBackendsWith(t, bucket, seed, reads{conc: 1})
}

// reads are the read settings of faultyBackendsWith's buckets: parts of
// partSize (0: the provider's), conc at most (0: the provider's), and,
// when link is set, a simulated far link (blobtest/netsim) between the
// client and the fault proxy.
type reads struct {
	partSize    int64
	conc        int
	target      int64 // Options.ReadTarget
	writeTarget int64 // Options.WriteTarget (on GCS with ComposeWrites)
	link        *netsim.Link
}

// faultyBackendsWith is faultyBackends with the buckets' read settings.
func faultyBackendsWith(t *testing.T, bucket string, seed uint64, rd reads) []*faulty {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx := context.Background()
	newProxy := func(target string) *faultproxy.Proxy {
		p, err := faultproxy.New(target, seed)
		require.NoError(t, err)
		t.Cleanup(func() { p.Close() })
		p.MinBody = 1024
		return p
	}
	// front is the address clients reach p at: p, or a far link to it
	// (recorded in links).
	links := map[*faultproxy.Proxy]*netsim.Proxy{}
	front := func(p *faultproxy.Proxy) string {
		if rd.link == nil {
			return p.URL()
		}
		n, err := netsim.New(strings.TrimPrefix(p.URL(), "http://"), *rd.link)
		require.NoError(t, err)
		t.Cleanup(func() { n.Close() })
		links[p] = n
		return "http://" + n.Addr()
	}

	mc := emulator.MinIO(t)
	creds := sigv4.StaticCredentials{AccessKeyID: mc.AccessKey, SecretAccessKey: mc.SecretKey}
	s3client := func(endpoint string, policy blob.RetryPolicy) *aws.Client {
		c, err := aws.New(ctx, aws.Options{Region: mc.Region, Endpoint: endpoint, UsePathStyle: true, Credentials: creds, Retry: policy,
			ReadConcurrency: rd.conc, ReadPartSize: rd.partSize, ReadTarget: rd.target, WriteTarget: rd.writeTarget})
		require.NoError(t, err)
		return c
	}
	s3admin := s3client(mc.Endpoint, blob.RetryPolicy{})
	require.NoError(t, s3admin.CreateBucket(ctx, bucket))
	s3proxy := newProxy(mc.Endpoint)
	s3front := front(s3proxy)
	s3direct, err := s3admin.Bucket(bucket)
	require.NoError(t, err)

	az := emulator.Azurite(t, nil)
	azclient := func(serviceURL string, policy blob.RetryPolicy) *azure.Client {
		c, err := azure.New(ctx, azure.Options{ServiceURL: serviceURL, Account: az.Account, SharedKey: az.Key, Retry: policy,
			ReadConcurrency: rd.conc, ReadPartSize: rd.partSize, ReadTarget: rd.target, WriteTarget: rd.writeTarget})
		require.NoError(t, err)
		return c
	}
	azadmin := azclient(az.BlobEndpoint, blob.RetryPolicy{})
	require.NoError(t, azadmin.CreateContainer(ctx, bucket))
	azproxy := newProxy(az.BlobEndpoint)
	azfront := front(azproxy)
	azdirect, err := azadmin.Bucket(bucket)
	require.NoError(t, err)

	gs := emulator.FakeGCS(t, bucket)
	signer := gsSignerKey(t)
	gsclient := func(endpoint string, policy blob.RetryPolicy) *gcp.Client {
		c, err := gcp.New(ctx, gcp.Options{Endpoint: endpoint + "/storage/v1/", Anonymous: true, Retry: policy,
			ReadConcurrency: rd.conc, ReadPartSize: rd.partSize, ReadTarget: rd.target,
			WriteTarget: rd.writeTarget, ComposeWrites: rd.writeTarget > 0,
			SignerEmail: "all@anyblob-test.iam.gserviceaccount.com", SignerKey: signer})
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	gsproxy := newProxy(gs.Endpoint)
	gsproxy.TargetHost = true // fake-gcs-server routes by Host
	gsfront := front(gsproxy)
	gsdirect, err := gsclient(gs.Endpoint, blob.RetryPolicy{}).Bucket(bucket)
	require.NoError(t, err)

	fbs := []*faulty{
		{
			name: "s3", proxy: s3proxy, direct: s3direct,
			open: func(t *testing.T, policy blob.RetryPolicy) blob.Bucket {
				b, err := s3client(s3front, policy).Bucket(bucket)
				require.NoError(t, err)
				return b
			},
			isWrite: func(r *http.Request) bool { return r.Method == http.MethodPut },
			isRead:  isMethod(http.MethodGet),
			isCommit: func(r *http.Request) bool {
				return r.Method == http.MethodPost && r.URL.Query().Get("uploadId") != ""
			},
			// Parts of 5 MiB, S3's smallest.
			partSize: aws.MinPartSize,
			uploads: func(t *testing.T) int {
				ups, err := s3admin.ListMultipartUploads(ctx, bucket, "")
				require.NoError(t, err)
				return len(ups)
			},
		},
		{
			name: "azblob", proxy: azproxy, direct: azdirect,
			open: func(t *testing.T, policy blob.RetryPolicy) blob.Bucket {
				b, err := azclient(azfront+"/"+az.Account, policy).Bucket(bucket)
				require.NoError(t, err)
				return b
			},
			isWrite: func(r *http.Request) bool {
				// Put Blob and Put Block; not the block list commit.
				return r.Method == http.MethodPut && r.URL.Query().Get("comp") != "blocklist"
			},
			isRead: isMethod(http.MethodGet),
			isCommit: func(r *http.Request) bool {
				return r.Method == http.MethodPut && r.URL.Query().Get("comp") == "blocklist"
			},
			rangesChecked: true,
			partSize:      azure.MinBlockSize,
		},
		{
			name: "gs", proxy: gsproxy, direct: gsdirect,
			open: func(t *testing.T, policy blob.RetryPolicy) blob.Bucket {
				b, err := gsclient(gsfront, policy).Bucket(bucket)
				require.NoError(t, err)
				return b
			},
			isWrite: func(r *http.Request) bool {
				return strings.HasPrefix(r.URL.Path, "/upload/") && (r.Method == http.MethodPut || r.Method == http.MethodPost)
			},
			isRead: func(r *http.Request) bool {
				return r.Method == http.MethodGet && (r.URL.Query().Get("alt") == "media" || !strings.HasPrefix(r.URL.Path, "/storage/"))
			},
			// The last chunk of a resumable upload finalizes it; it is the
			// one that is not a whole chunk.
			isCommit: func(r *http.Request) bool {
				return strings.HasPrefix(r.URL.Path, "/upload/") && r.URL.Query().Get("upload_id") != "" && r.ContentLength%(256<<10) != 0
			},
			// Chunks of 256 KiB, the smallest resumable chunk.
			partSize:             256 << 10,
			failedWriteMayDelete: true,
		},
	}
	for _, fb := range fbs {
		fb.link = links[fb.proxy]
	}
	return fbs
}

// gsSignerKey is a PEM RSA key for signing URLs on fake-gcs-server, which
// has no service account of its own (and checks no signature).
func gsSignerKey(t *testing.T) []byte {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}
