package checksum

import (
	"encoding/hex"
	"hash"
	"hash/crc64"
	"math/rand/v2"
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

// TestCRC64MatchesTheTable checks the folding CRC-64/NVME against the
// plain table form of the same parameters (hash/crc64), at every length
// around the sizes where folding starts and stops, at unaligned starts,
// and written in uneven pieces.
func TestCRC64MatchesTheTable(t *testing.T) {
	table := crc64.MakeTable(0x9a6c9329ac4bc9b5) // the reversed polynomial
	data := make([]byte, 3<<20+77)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	check := func(b []byte) {
		t.Helper()
		want := crc64.Checksum(b, table)
		h := New(blob.ChecksumCRC64NVME).(hash.Hash64)
		for rest := b; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(70000))
			h.Write(rest[:n])
			rest = rest[n:]
		}
		require.Equal(t, want, h.Sum64(), "%d bytes", len(b))
	}
	for n := 0; n <= 1100; n++ {
		check(data[n%7 : n%7+n])
	}
	for _, n := range []int{4095, 4096, 4097, 65536, 1 << 20, 3<<20 + 70} {
		check(data[3 : 3+n])
	}
}
