package checksum

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// The check values of the catalogue of CRC parameters ("123456789"), and
// the well-known digests.
func TestCheckValues(t *testing.T) {
	in := []byte("123456789")
	for alg, want := range map[blob.ChecksumAlgorithm]string{
		blob.ChecksumCRC32C:    "e3069283",
		blob.ChecksumCRC64NVME: "ae8b14860a799888",
		blob.ChecksumSHA256:    "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
		blob.ChecksumMD5:       "25f9e794323b453885f5181f1b624d0b",
	} {
		require.Equal(t, want, hex.EncodeToString(Sum(alg, in)), alg)
	}
	require.Nil(t, New("CRC16"))
	// The CRC-64/NVME of nothing is 0.
	require.Equal(t, "AAAAAAAAAAA=", Base64(Sum(blob.ChecksumCRC64NVME, nil)))
}
