package main

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/aws"
)

// clouds starts (or finds) the shared emulators, points the environment
// at them, makes a bucket of the test's own on each with mb, removed with
// rb -f when the test ends, and returns each bucket's URL by scheme.
func clouds(t *testing.T) map[string]string {
	m := emulator.SharedMinIO(t)
	a := emulator.SharedAzurite(t)
	g := emulator.SharedFakeGCS(t)
	minioEnv(t, m)
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", a.ConnectionString)
	t.Setenv("STORAGE_EMULATOR_HOST", g.Host)
	name := fmt.Sprintf("cli-%012x", rand.Uint64()&(1<<48-1))
	urls := map[string]string{
		"s3":     "s3://" + name + "?" + url.Values{"region": {m.Region}, "endpoint": {m.Endpoint}}.Encode(),
		"azblob": "azblob://" + name,
		"gs":     "gs://" + name + "?project=p",
	}
	c := &cli{t: t}
	for _, u := range urls {
		c.ok("", "mb", u)
		t.Cleanup(func() { c.ok("", "rb", "-f", u) })
	}
	return urls
}

// at is the object URL of key in the bucket bucketURL: the key goes
// before the query.
func at(bucketURL, key string) string {
	base, query, ok := strings.Cut(bucketURL, "?")
	if !ok {
		return base + "/" + key
	}
	return base + "/" + key + "?" + query
}

// TestCrossCloudCopies copies an object of several parts from each of
// S3 (MinIO), Azure Blob (Azurite) and GCS (fake-gcs-server) to each of
// them, the same bucket included (a server-side copy), by URL, and checks
// the bytes, the content type and the metadata at every destination.
func TestCrossCloudCopies(t *testing.T) {
	urls := clouds(t)
	c := &cli{t: t}
	payload := make([]byte, 9<<20+123) // more than one part on every cloud
	for i := range payload {
		payload[i] = byte(rand.Uint32())
	}
	src := filepath.Join(t.TempDir(), "src.bin")
	require.NoError(t, os.WriteFile(src, payload, 0o666))

	for scheme, u := range urls {
		c.ok("", "cp", "--content-type", "application/x-test", src, at(u, "src.bin"))
		// Metadata a copy must carry, set as a library user would.
		b, err := blob.OpenBucket(context.Background(), u)
		require.NoError(t, err, scheme)
		require.NoError(t, b.Copy(context.Background(), "src.bin", "src.bin",
			&blob.CopyOptions{Metadata: map[string]string{"origin": scheme}}))
		require.NoError(t, b.Close())
	}
	for from, fu := range urls {
		for to, tu := range urls {
			t.Run(from+"-to-"+to, func(t *testing.T) {
				c := &cli{t: t}
				dst := at(tu, "from/"+from+".bin")
				c.ok("", "cp", at(fu, "src.bin"), dst)
				require.True(t, bytes.Equal(payload, []byte(c.ok("", "cat", dst))), "the same bytes")
				var got statJSON
				require.NoError(t, jsonDecode(c.ok("", "stat", dst), &got))
				require.Equal(t, int64(len(payload)), got.Size)
				require.Equal(t, "application/x-test", got.ContentType)
				require.Equal(t, map[string]string{"origin": from}, got.Metadata)
			})
		}
	}

	// Folders at both ends, on clouds: a query after the trailing '/'.
	dl := t.TempDir()
	c.ok("", "cp", src, at(urls["s3"], "in/"))
	c.ok("", "cp", at(urls["s3"], "in/src.bin"), at(urls["gs"], "in/"))
	c.ok("", "cp", at(urls["gs"], "in/src.bin"), dl+"/")
	require.True(t, bytes.Equal(payload, []byte(readFile(t, filepath.Join(dl, "src.bin")))))
	code, _, errOut := c.run("", "cp", at(urls["gs"], "in/"), dl+"/")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "is a folder")
}

// TestCrossCloudFailuresLeaveNothing: a source cut part-way through a
// streamed copy into each cloud (after the first S3 part was handed
// over), and a create-only copy onto an existing object, leave the
// destination as it was.
func TestCrossCloudFailuresLeaveNothing(t *testing.T) {
	t.Cleanup(spy.Reset)
	urls := clouds(t)
	c := &cli{t: t}
	src := "faulty://" + memName()
	big := strings.Repeat("0123456789abcdef", 20<<16) // 20 MiB
	c.ok(big, "cp", "-", src+"/big")
	for scheme, u := range urls {
		spy.Add(blobtest.Fault{Op: blob.OpRead, Cut: true, CutAfter: aws.DefaultPartSize + 1<<20})
		code, _, errOut := c.run("", "cp", src+"/big", at(u, "big"))
		spy.Reset()
		require.Equal(t, 1, code, "%s: %s", scheme, errOut)
		require.Contains(t, errOut, "injected fault", scheme)
		code, _, errOut = c.run("", "stat", at(u, "big"))
		require.Equal(t, 3, code, "%s: nothing after a cut copy: %s", scheme, errOut)

		c.ok("old", "cp", "-", at(u, "kept"))
		code, _, errOut = c.run("", "cp", "--if-not-exist", src+"/big", at(u, "kept"))
		require.Equal(t, 4, code, "%s: %s", scheme, errOut)
		require.Equal(t, "old", c.ok("", "cat", at(u, "kept")), scheme)
	}
}

// TestCrossCloudCutLeavesNoS3Upload: a streamed copy into S3 cut after
// its first part leaves no unfinished multipart upload, also when the
// abort comes while CreateMultipartUpload is in flight (a cold connection:
// every command opens its bucket afresh), which providers/aws answers by
// aborting the uploads of the key that call may have created.
func TestCrossCloudCutLeavesNoS3Upload(t *testing.T) {

	t.Cleanup(spy.Reset)
	u := clouds(t)["s3"]
	c := &cli{t: t}
	src := "faulty://" + memName()
	c.ok(strings.Repeat("0123456789abcdef", 20<<16), "cp", "-", src+"/big")
	for range 3 {
		spy.Add(blobtest.Fault{Op: blob.OpRead, Cut: true, CutAfter: aws.DefaultPartSize + 1<<20})
		code, _, errOut := c.run("", "cp", src+"/big", at(u, "big"))
		spy.Reset()
		require.Equal(t, 1, code, errOut)
		requireNoUploads(t, u, "big")
	}
}

// requireNoUploads checks that the S3 bucket u names has no unfinished
// multipart upload of any of keys (one listing each: MinIO lists the
// uploads of one key only).
func requireNoUploads(t *testing.T, u string, keys ...string) {
	pu, err := url.Parse(u)
	require.NoError(t, err)
	name, opts, err := aws.FromURL(pu, os.Getenv)
	require.NoError(t, err)
	client, err := aws.New(context.Background(), opts)
	require.NoError(t, err)
	for _, key := range keys {
		uploads, err := client.ListMultipartUploads(context.Background(), name, key)
		require.NoError(t, err)
		require.Empty(t, uploads, "%s: no multipart upload left behind", key)
	}
}

// TestPresignOnEveryCloud signs a GET URL on MinIO, Azurite and
// fake-gcs-server (GCS signing with a service account key file given in
// the URL, as fake-gcs-server has no credentials) and fetches it with
// plain net/http; on S3 also a PUT URL, used with curl's method.
func TestPresignOnEveryCloud(t *testing.T) {
	us := clouds(t)
	key, err := rsa.GenerateKey(cryptorand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	saFile := filepath.Join(t.TempDir(), "sa.json")
	sa, err := json.Marshal(map[string]string{"type": "service_account", "client_email": "signer@p.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(saFile, sa, 0o600))
	us["gs"] += "&" + url.Values{"signer_key_file": {saFile}}.Encode()

	c := &cli{t: t}
	for cloud, u := range us {
		t.Run(cloud, func(t *testing.T) {
			c.ok("signed content of "+cloud, "cp", "-q", "-", at(u, "signed.txt"))
			signed := strings.TrimSpace(c.ok("", "presign", "--expires", "5m", at(u, "signed.txt")))
			require.True(t, strings.HasPrefix(signed, "http"), signed)
			resp, err := http.Get(signed)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			require.Equal(t, "signed content of "+cloud, string(body))
		})
	}
	put := strings.TrimSpace(c.ok("", "presign", "--method", "PUT", at(us["s3"], "put.txt")))
	req, err := http.NewRequest(http.MethodPut, put, strings.NewReader("put through a signed URL"))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "put through a signed URL", c.ok("", "cat", at(us["s3"], "put.txt")))
}
