package checksum

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// TestCombine proves that the checksums of two pieces combine into the
// checksum of the two joined, for pieces of every small size, some large
// ones, and empty ones, on both CRCs; and that the digests do not combine.
func TestCombine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	cuts := [][2]int{{0, 0}, {0, 1}, {1, 0}, {5, 0}, {0, 5}, {1 << 20, 2 << 20}, {3<<20 - 1, 1}, {12345, 678901}}
	for range 200 {
		a := rng.IntN(300)
		cuts = append(cuts, [2]int{a, rng.IntN(300)})
	}
	for _, alg := range []blob.ChecksumAlgorithm{blob.ChecksumCRC32C, blob.ChecksumCRC64NVME} {
		require.True(t, Combinable(alg))
		for _, c := range cuts {
			a, b := data[:c[0]], data[c[0]:c[0]+c[1]]
			got := Combine(alg, Sum(alg, a), Sum(alg, b), int64(len(b)))
			require.Equal(t, Sum(alg, data[:c[0]+c[1]]), got, "%s: %d then %d bytes", alg, len(a), len(b))
		}
		// Many pieces, joined one after another as a parallel read does.
		sum, off := Sum(alg, nil), 0
		for off < len(data) {
			n := min(len(data)-off, 1+rng.IntN(100<<10))
			sum = Combine(alg, sum, Sum(alg, data[off:off+n]), int64(n))
			off += n
		}
		require.Equal(t, Sum(alg, data), sum, alg)
		require.Nil(t, Combine(alg, []byte{1}, Sum(alg, nil), 0), "a sum of the wrong size")
	}
	for _, alg := range []blob.ChecksumAlgorithm{blob.ChecksumMD5, blob.ChecksumSHA256, ""} {
		require.False(t, Combinable(alg))
		require.Nil(t, Combine(alg, Sum(alg, []byte("a")), Sum(alg, []byte("b")), 1))
	}
}
