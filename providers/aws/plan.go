package aws

import (
	"fmt"

	"github.com/anyblob/anyblob/blob"
)

// S3's multipart limits.
const (
	// MinPartSize is the smallest part S3 accepts, but for the last one.
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part S3 accepts.
	MaxPartSize = 5 << 30
	// MaxParts is the most parts one multipart upload may have.
	MaxParts = 10000
	// MaxObjectSize is the largest object S3 stores (5 TiB).
	MaxObjectSize = 5 << 40
	// MaxPutSize is the largest object a single PutObject or CopyObject
	// can write (5 GiB); larger ones take multipart upload or UploadPartCopy.
	MaxPutSize = 5 << 30
)

// partPlan sizes the parts of a stream whose length is unknown. Parts start
// at base and double every step parts (capped at MaxPartSize), step being
// the largest that still lets MaxParts parts hold MaxObjectSize: a small
// upload keeps the part size it asked for, and a 5 TiB one still fits.
type partPlan struct {
	base int64
	step int
}

// newPartPlan returns the plan for parts of base bytes. base must be
// between MinPartSize and MaxPartSize.
func newPartPlan(base int64) partPlan {
	step := MaxParts
	for step > 1 && planCapacity(base, step) < MaxObjectSize {
		step--
	}
	return partPlan{base: base, step: step}
}

// planCapacity is how many bytes MaxParts parts hold when they start at base
// and double every step parts.
func planCapacity(base int64, step int) int64 {
	var total int64
	for first := 0; first < MaxParts; first += step {
		n := min(step, MaxParts-first)
		total += int64(n) * growSize(base, first/step)
	}
	return total
}

func growSize(base int64, doublings int) int64 {
	s := base
	for range doublings {
		if s >= MaxPartSize/2 {
			return MaxPartSize
		}
		s *= 2
	}
	return min(s, MaxPartSize)
}

// size is the size of part i (0-based).
func (p partPlan) size(i int) int64 { return growSize(p.base, i/p.step) }

// errTooLarge is the error for a write past what S3 can hold.
func errTooLarge(parts, maxParts int, written int64) error {
	return blob.Errorf(blob.ErrInvalidArgument, "object too large: %d bytes or more would need more than S3's limit of %d parts (%d full parts written; 5 TiB at most)", written, maxParts, parts)
}

// byteRange is an inclusive range of bytes, as in an HTTP Range header.
type byteRange struct{ first, last int64 }

func (r byteRange) String() string { return fmt.Sprintf("bytes=%d-%d", r.first, r.last) }

// DefaultCopyPartSize is the part size of a multipart copy.
const DefaultCopyPartSize = 512 << 20

// planCopy splits an object of size bytes into the ranges UploadPartCopy
// copies: parts of partSize bytes (0 means DefaultCopyPartSize), raised so
// that there are at most MaxParts of them. It fails with
// ErrInvalidArgument for sizes S3 cannot hold.
func planCopy(size, partSize int64) ([]byteRange, error) {
	if size < 0 || size > MaxObjectSize {
		return nil, blob.Errorf(blob.ErrInvalidArgument, "cannot copy an object of %d bytes: S3 holds 0 to %d", size, int64(MaxObjectSize))
	}
	if partSize == 0 {
		partSize = DefaultCopyPartSize
	}
	partSize = max(partSize, MinPartSize, (size+MaxParts-1)/MaxParts)
	partSize = min(partSize, MaxPartSize)
	if size == 0 {
		return []byteRange{{0, -1}}, nil
	}
	var out []byteRange
	for off := int64(0); off < size; off += partSize {
		out = append(out, byteRange{off, min(off+partSize, size) - 1})
	}
	return out, nil
}
