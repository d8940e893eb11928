package checksum

import (
	"encoding/binary"

	"github.com/anyblob/anyblob/blob"
)

// Combinable reports whether alg's checksums of two pieces give the
// checksum of the two joined (Combine): the CRCs do, the digests do not.
func Combinable(alg blob.ChecksumAlgorithm) bool {
	_, ok := crcs[alg]
	return ok
}

// Combine returns alg's checksum of A followed by B, from sumA and sumB
// (as Sum gives them) and the length of B, without the bytes: parts read
// in any order are checked as one object. It returns nil for an algorithm
// that does not combine (Combinable) or sums of the wrong size.
//
// A CRC with all-ones initial value and final XOR is linear over GF(2) in
// a way that makes the two cancel: crc(A‖B) = crc(A)·x^(8·len(B)) mod P
// XOR crc(B). The product is taken in the reflected form hash/crc32 and
// hash/crc64 keep their registers in, and x^(8n) by squaring, so a
// combine costs about a hundred multiplications whatever n is.
func Combine(alg blob.ChecksumAlgorithm, sumA, sumB []byte, lenB int64) []byte {
	c, ok := crcs[alg]
	if !ok || len(sumA) != c.width/8 || len(sumB) != c.width/8 {
		return nil
	}
	a, b := c.get(sumA), c.get(sumB)
	return c.put(c.mul(c.xPow8(lenB), a) ^ b)
}

// crc is a reflected CRC of width bits whose reversed polynomial is poly.
type crc struct {
	width int
	poly  uint64
}

var crcs = map[blob.ChecksumAlgorithm]crc{
	blob.ChecksumCRC32C:    {32, 0x82f63b78},
	blob.ChecksumCRC64NVME: {64, 0x9a6c9329ac4bc9b5},
}

// one is the polynomial 1 (x^0), which the reflected form keeps in the top
// bit; x^(width-1) is bit 0.
func (c crc) one() uint64 { return 1 << (c.width - 1) }

// mul returns a·b mod P.
func (c crc) mul(a, b uint64) uint64 {
	var p uint64
	for m := c.one(); m != 0; m >>= 1 { // a's terms, x^0 upward
		if a&m != 0 {
			p ^= b
		}
		// b·x: every term one power up, x^width folded back by P.
		if b&1 != 0 {
			b = b>>1 ^ c.poly
		} else {
			b >>= 1
		}
	}
	return p
}

// xPow8 returns x^(8n) mod P.
func (c crc) xPow8(n int64) uint64 {
	r, sq := c.one(), c.one()>>8 // 1 and x^8
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			r = c.mul(r, sq)
		}
		sq = c.mul(sq, sq)
	}
	return r
}

func (c crc) get(b []byte) uint64 {
	if c.width == 32 {
		return uint64(binary.BigEndian.Uint32(b))
	}
	return binary.BigEndian.Uint64(b)
}

func (c crc) put(v uint64) []byte {
	if c.width == 32 {
		return binary.BigEndian.AppendUint32(nil, uint32(v))
	}
	return binary.BigEndian.AppendUint64(nil, v)
}
