package all_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
	"github.com/anyblob/anyblob/internal/checksum"
)

// TestChecksumChoices writes with each checksum the caller may choose, on
// MinIO, Azurite and fake-gcs-server: what a backend stores comes back in
// Attributes.Checksums, equal to the data's; a byte flipped on the way
// down fails the full read, one flipped on the way up fails the write
// (and leaves nothing); what a backend cannot store is refused before any
// request.
func TestChecksumChoices(t *testing.T) {
	algs := []blob.ChecksumAlgorithm{blob.ChecksumCRC32C, blob.ChecksumCRC64NVME, blob.ChecksumSHA256, blob.ChecksumMD5}
	// stored says, per backend and algorithm, whether a one-part and a
	// multipart object keep the checksum; absent means refused.
	stored := map[string]map[blob.ChecksumAlgorithm][2]bool{
		"s3": {blob.ChecksumCRC32C: {true, true}, blob.ChecksumCRC64NVME: {true, true},
			blob.ChecksumSHA256: {true, false}, blob.ChecksumMD5: {true, false}},
		"azblob": {blob.ChecksumMD5: {true, true}},
		"gs":     {blob.ChecksumCRC32C: {true, true}, blob.ChecksumMD5: {true, true}},
	}
	// unverified are the objects whose full reads cannot be checked: S3
	// keeps only a checksum of the parts' SHA-256s for a multipart one.
	unverified := map[string]bool{"s3/SHA256/multipart": true}
	for _, fb := range faultyBackends(t, "sums", 11) {
		t.Run(fb.name, func(t *testing.T) {
			ctx := context.Background()
			p := fb.proxy
			b := fb.open(t, fastRetry)
			once := fb.open(t, blob.RetryPolicy{MaxAttempts: 1})
			for _, alg := range algs {
				keeps, ok := stored[fb.name][alg]
				t.Run(string(alg), func(t *testing.T) {
					defer p.Clear()
					if !ok {
						before := p.Requests()
						err := blob.WriteAll(ctx, b, "refused", []byte("x"), &blob.WriterOptions{Checksum: alg})
						require.ErrorIs(t, err, blob.ErrNotImplemented)
						require.Contains(t, err.Error(), string(alg))
						require.Equal(t, before, p.Requests(), "refused before any request")
						return
					}
					for i, n := range []int{40 << 10, 3*fb.partSize + 77} {
						data := pattern(n, byte(i+3))
						key := fmt.Sprintf("%s-%d", alg, n)
						opts := &blob.WriterOptions{Checksum: alg, PartSize: int64(fb.partSize)}
						require.NoError(t, blob.WriteAll(ctx, b, key, data, opts))
						a, err := b.Attributes(ctx, key)
						require.NoError(t, err)
						if keeps[i] {
							require.Equal(t, checksum.Sum(alg, data), a.Checksums[alg], "%d bytes: the stored %s is the data's", n, alg)
						} else {
							require.NotContains(t, a.Checksums, alg, "%d bytes: no whole-object %s is claimed", n, alg)
						}

						if unverified[fmt.Sprintf("%s/%s/%s", fb.name, alg, map[bool]string{true: "multipart", false: "single"}[i == 1])] {
							t.Logf("%d bytes: %s on %s is checked per part on write; a full read cannot check it", n, alg, fb.name)
							continue
						}
						p.Add(faultproxy.Rule{Kind: faultproxy.FlipByte, Match: fb.isRead, Times: 1})
						got, err := blob.ReadAll(ctx, b, key)
						if err == nil {
							// A flip the driver could not detect would be a
							// wrong read; retried reads may also have
							// dodged it (the flip struck nothing).
							require.True(t, bytes.Equal(data, got), "%d bytes: a read that succeeds has the right data", n)
							require.Zero(t, p.Struck()[faultproxy.FlipByte], "%d bytes: a flipped byte was read as good data", n)
						} else {
							require.ErrorIs(t, err, blob.ErrInternal)
						}
						p.Clear()
					}

					// A byte flipped on the way up: the service refuses it.
					key := string(alg) + "-up"
					p.Add(faultproxy.Rule{Kind: faultproxy.FlipRequest, Match: fb.isWrite, Times: 1})
					err := blob.WriteAll(ctx, once, key, pattern(20<<10, 9), &blob.WriterOptions{Checksum: alg})
					require.Error(t, err)
					ok, err := blob.Exists(ctx, fb.direct, key)
					require.NoError(t, err)
					require.False(t, ok, "nothing visible")
				})
			}
		})
	}
}
