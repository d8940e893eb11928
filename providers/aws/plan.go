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
