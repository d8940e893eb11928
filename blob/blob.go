package blob

import (
	"context"
	"io"
	"time"
)

// Bucket is a store of objects addressed by key. Every provider implements it,
// and the code that uses a Bucket never changes with the provider.
//
// Contract, the same on every backend (the conformance suite checks it):
//   - Keys are any valid UTF-8 string of 1 to 1024 bytes without NUL (see
//     ValidateKey); every backend round-trips exactly the key it is given.
//   - A write is atomic: nothing is visible until the Writer's Close returns
//     nil, and a failed, aborted or canceled write leaves nothing behind.
//   - A read after a successful write sees the new object (read-after-write),
//     and List sees it too.
//   - Delete of an absent key returns nil.
//   - Every error matches exactly one of the sentinels (ErrNotFound, ...) with
//     errors.Is, and is a *Error.
//   - nil options mean the defaults.
//
// A Bucket is safe for concurrent use. Only this package makes Buckets (see
// NewBucket, which a provider calls with its Driver): the interface has an
// unexported method, so every Bucket a user holds went through the shared
// checks, and the decorators (Prefixed, ReadOnly, Observe) wrap the driver
// beneath, so keys are checked and errors wrapped exactly once however many
// are stacked.
//
// Every Bucket also implements BatchDeleter.
type Bucket interface {
	// NewRangeReader reads length bytes of key from offset; length < 0 reads
	// to the end. An offset at or past the end of the object reads nothing
	// (an empty Reader whose Attrs still describe the whole object). A
	// negative offset is ErrInvalidArgument; an absent key is ErrNotFound; an
	// IfMatch that does not match the object's ETag is ErrPreconditionFailed.
	NewRangeReader(ctx context.Context, key string, offset, length int64, opts *ReaderOptions) (Reader, error)
	// NewReader reads the whole object: NewRangeReader(ctx, key, 0, -1,
	// opts), with the same errors.
	NewReader(ctx context.Context, key string, opts *ReaderOptions) (Reader, error)
	// NewWriter streams a new object; nothing is visible until Close returns nil.
	// ctx governs the whole write: canceling it aborts the write.
	NewWriter(ctx context.Context, key string, opts *WriterOptions) (Writer, error)
	// Attributes returns the object's metadata, or ErrNotFound.
	Attributes(ctx context.Context, key string) (*Attributes, error)
	// List returns one page; pass page.NextPageToken back for the next.
	List(ctx context.Context, opts *ListOptions) (*ListPage, error)
	// Delete removes key. It returns nil when key is absent.
	Delete(ctx context.Context, key string) error
	// Copy copies srcKey to dstKey on the server side. An absent source is
	// ErrNotFound; with IfNotExist, an existing destination is
	// ErrPreconditionFailed.
	Copy(ctx context.Context, dstKey, srcKey string, opts *CopyOptions) error
	// SignedURL returns a URL that lets its holder perform opts.Method on key
	// without credentials until opts.Expiry has passed. Backends that cannot
	// sign return ErrNotImplemented.
	SignedURL(ctx context.Context, key string, opts *SignedURLOptions) (string, error)
	// Close releases the bucket's resources. Using the bucket after Close is
	// an error.
	Close() error

	// shared seals the interface: only this package's bucket has it.
	shared() *bucket
}

// Reader reads one object, or a range of it. Close must be called.
type Reader interface {
	io.ReadCloser
	// Attrs describes the object being read: Size is the whole object's size,
	// not the range's.
	Attrs() ReaderAttrs
}

// WriterAtTo is a Reader that can write the rest of what it reads into an
// io.WriterAt, each byte at its offset in the object, not necessarily in
// order: a parallel read writes each part as it arrives, from the
// goroutine that fetched it, so w must take WriteAt calls in parallel on
// ranges that do not overlap (as io.WriterAt allows; *os.File does). It
// returns the bytes written, and an error when the read or a write
// failed; the object's checks still cover every byte. The Readers of every
// Bucket made by NewBucket implement it (in order, for drivers that read
// one stream); DownloadAt is the way to use it.
type WriterAtTo interface {
	WriteAtTo(w io.WriterAt) (int64, error)
}

// Writer writes one object. Close commits it; Abort discards it.
type Writer interface {
	io.WriteCloser // Close commits
	// Abort discards everything written: nothing becomes visible and no
	// partial upload is left behind. err, which may be nil, is the reason
	// recorded by the writer; Abort returns an error only when cleaning up
	// failed. Close after Abort returns an error, and Abort after a Close that
	// returned nil does nothing and returns an error.
	Abort(err error) error
}

// ReaderAttrs describes the object a Reader reads.
type ReaderAttrs struct {
	// Size is the size of the whole object in bytes.
	Size        int64
	ContentType string
	ModTime     time.Time
	// ETag identifies this version of the object; see Attributes.ETag.
	ETag string
}

// ReaderOptions controls a read. nil means the defaults.
type ReaderOptions struct {
	// IfMatch pins the read to one version: when it is not "" and not the
	// object's current ETag, the read fails with ErrPreconditionFailed.
	IfMatch string
	// BeforeRead, when not nil, is called once before the read's first
	// request with asFunc, which sets a pointer to the provider's native
	// request or options (each provider documents the types) and reports
	// whether it could; it is the per-call escape hatch for what the
	// portable options do not cover. An error from it fails the read, as
	// it is. Backends with no request (mem, file) call it with an asFunc
	// that sets nothing.
	BeforeRead func(asFunc func(any) bool) error
	// Encryption gives the customer key of an object written with one
	// (Encryption.CustomerKey); the other fields are for writes and must
	// be unset here (ErrInvalidArgument). nil reads objects encrypted by
	// the service.
	Encryption *Encryption
	// Concurrency is the most parts a full read of a large object fetches
	// at once when it goes parallel (on a link one connection cannot
	// fill; see the providers' docs), and so, times the provider's read
	// part size (4 MiB on S3, Azure and GCS), the most memory the read
	// holds. 0 means the provider's bound (its Options.ReadConcurrency,
	// 16 by default); 1 reads in one stream; negative is
	// ErrInvalidArgument. Backends that read one stream ignore it.
	Concurrency int
}

// WriterOptions controls a write. nil means the defaults.
type WriterOptions struct {
	// ContentType is the MIME type; "" lets the backend choose
	// ("application/octet-stream" on most).
	ContentType        string
	ContentEncoding    string
	ContentDisposition string
	ContentLanguage    string
	CacheControl       string
	// Metadata is user metadata. Keys are case-insensitive and are stored and
	// returned in lower case; each must be 1 to 128 bytes of ASCII letters,
	// digits, '-' and '_' starting with a letter (a set every backend can
	// carry), otherwise the write fails with ErrInvalidArgument, as it does
	// when two keys differ only in case. Values are any valid UTF-8; backends
	// that need it encode them and decode them on read.
	Metadata map[string]string
	// StorageClass is the object's storage class (access tier on Azure),
	// in the cloud's own words: on S3 STANDARD, STANDARD_IA, ONEZONE_IA,
	// INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE, ... (sent as
	// x-amz-storage-class); on Azure Hot, Cool, Cold or Archive
	// (x-ms-access-tier); on GCS STANDARD, NEARLINE, COLDLINE or ARCHIVE.
	// "" leaves it to the bucket's default. The clouds' classes do not map
	// one to one, so no portable name is invented: a value the service
	// does not know fails the write with ErrInvalidArgument. Memory and
	// directory buckets store it as given. Attributes.StorageClass returns
	// it. It must pass ValidateHeader.
	StorageClass string
	// Encryption is how the object is encrypted at rest (see Encryption);
	// nil is the bucket's default.
	Encryption *Encryption
	// Checksum is the algorithm of the end-to-end checksum the write
	// carries: computed as the data is written, sent with it, checked by
	// the service and stored, then checked against the data of every full
	// read. "" is the backend's default (S3 CRC32C, Azure MD5, GCS CRC32C,
	// memory and directory MD5). What each backend stores:
	//   - S3: CRC32C and CRC64NVME for any object (a full-object checksum
	//     of multipart uploads too); SHA256 for objects of one part
	//     (multipart uploads get a checksum of their parts' checksums, which
	//     is checked per part on write but cannot be checked on a read);
	//     MD5 as Content-MD5 of each request, and as the ETag of a one-part
	//     object. S3-compatible servers whose profile takes no
	//     x-amz-checksum-* header take MD5 only.
	//   - Azure: MD5 only (its CRC64 is per request, never stored).
	//   - GCS: CRC32C and MD5 (GCS computes both for every object that is
	//     not a composite).
	//   - memory and directory buckets: all four.
	// Any other choice fails the write with ErrNotImplemented before
	// anything is sent. Attributes.Checksums returns what is stored.
	Checksum ChecksumAlgorithm
	// Tags are the object's tags: S3 object tags (x-amz-tagging), Azure
	// blob index tags (x-ms-tags), which the services can filter on. GCS
	// has none: a write with Tags there fails with ErrNotImplemented
	// before anything is sent. See ValidateTags for the rules every
	// backend applies; memory and directory buckets store them as given.
	// Attributes.Tags returns them.
	Tags map[string]string
	// IfNotExist makes the write fail with ErrPreconditionFailed when key
	// already exists. The check and the write are atomic.
	IfNotExist bool
	// IfMatch makes the write fail with ErrPreconditionFailed unless the
	// object exists with this ETag. It cannot be combined with IfNotExist.
	IfMatch string
	// PartSize is the size of each part of a multipart or staged upload;
	// 0 lets the backend choose. Backends raise it as needed to stay within
	// their part-count limit.
	PartSize int64
	// Concurrency is how many parts are uploaded at once; 0 lets the backend
	// choose (on S3 and Azure, 8, and for a source that is an io.ReaderAt
	// and io.Seeker such as a file, whose parts are read as they are sent,
	// up to 16 while the rate grows). Memory held by a writer is at most
	// about PartSize x Concurrency.
	Concurrency int
	// BeforeWrite, when not nil, is called once before the request that
	// creates the object (a single upload, or the start of a multipart one),
	// as ReaderOptions.BeforeRead is. An error from it fails the write and
	// nothing is written.
	BeforeWrite func(asFunc func(any) bool) error
}

// ChecksumAlgorithm names an end-to-end checksum (WriterOptions.Checksum).
type ChecksumAlgorithm string

// The checksum algorithms.
const (
	// ChecksumCRC32C is CRC-32C (Castagnoli).
	ChecksumCRC32C ChecksumAlgorithm = "CRC32C"
	// ChecksumCRC64NVME is CRC-64/NVME, S3's CRC64NVME.
	ChecksumCRC64NVME ChecksumAlgorithm = "CRC64NVME"
	// ChecksumSHA256 is SHA-256.
	ChecksumSHA256 ChecksumAlgorithm = "SHA256"
	// ChecksumMD5 is MD5.
	ChecksumMD5 ChecksumAlgorithm = "MD5"
)

// CopyOptions controls Copy. nil means the defaults: copy the source's
// metadata and content headers as they are.
type CopyOptions struct {
	// IfNotExist makes the copy fail with ErrPreconditionFailed when dstKey
	// already exists.
	IfNotExist bool
	// Metadata, when not nil, replaces the source's metadata on the copy
	// (an empty, non-nil map clears it). The rules of WriterOptions.Metadata
	// apply.
	Metadata map[string]string
	// ContentType, when not "", replaces the source's content type.
	ContentType string
	// Encryption is how the copy is encrypted, as in WriterOptions; nil is
	// the bucket's default (not the source's encryption).
	Encryption *Encryption
	// SourceEncryption gives the source's customer key when it was written
	// with one.
	SourceEncryption *Encryption
	// StorageClass is the copy's storage class, as in WriterOptions; ""
	// lets the backend choose, which is the bucket's default on S3 and GCS
	// (not the source's class) and the source's tier on Azure.
	StorageClass string
	// BeforeCopy, when not nil, is called once before the request that
	// starts the copy, as ReaderOptions.BeforeRead is.
	BeforeCopy func(asFunc func(any) bool) error
}

// ListOptions controls List. nil means the defaults: every key, no
// delimiter, pages of up to 1000.
type ListOptions struct {
	// Prefix limits the listing to keys that start with it.
	Prefix string
	// Delimiter, when not "", groups keys that contain it after Prefix into
	// ListPage.Prefixes, each ending with the delimiter, as S3 does.
	Delimiter string
	// PageSize is the most entries (objects plus prefixes) in one page;
	// 0 means 1000, and larger values are capped at 1000. Pages may be
	// shorter than PageSize even when more follow: keep going while
	// NextPageToken is not "".
	PageSize int
	// PageToken continues a listing: pass the previous page's
	// NextPageToken. "" starts from the beginning.
	PageToken string
	// BeforeList, when not nil, is called once before the page's request,
	// as ReaderOptions.BeforeRead is.
	BeforeList func(asFunc func(any) bool) error
}

// ListPage is one page of a listing. Objects and Prefixes each come in
// lexicographic byte order of their keys.
type ListPage struct {
	Objects []ObjectInfo
	// Prefixes are the common prefixes found with ListOptions.Delimiter.
	Prefixes []string
	// NextPageToken is "" on the last page.
	NextPageToken string
}

// ObjectInfo is one object in a listing.
type ObjectInfo struct {
	Key     string
	Size    int64
	ModTime time.Time
	// ETag is the same value Attributes and Reader.Attrs report.
	ETag string
	// IsPrefix is set only by Objects, for a common prefix found with a
	// delimiter; then only Key is set. List reports prefixes in
	// ListPage.Prefixes instead.
	IsPrefix bool
}

// Attributes describe a stored object.
type Attributes struct {
	Size               int64
	ContentType        string
	ContentEncoding    string
	ContentDisposition string
	ContentLanguage    string
	CacheControl       string
	// Metadata is the user metadata, keys in lower case; never nil.
	Metadata map[string]string
	ModTime  time.Time
	// ETag identifies this version of the object, in its HTTP form (quotes
	// included where the backend uses them). Pass it back as IfMatch; compare
	// it only for equality.
	ETag string
	// MD5 is the MD5 of the content; nil where the backend does not know it
	// (multipart uploads on S3, for example).
	MD5 []byte
	// StorageClass is the object's storage class (access tier on Azure) in
	// the cloud's words, as WriterOptions.StorageClass; "" where the
	// service does not say (S3 omits STANDARD; an Azure blob whose tier
	// is inferred from the account's default says it all the same).
	StorageClass string
	// Encryption is how the object is encrypted at rest, where the
	// service says; nil where it does not (memory and directory buckets,
	// fake emulators).
	Encryption *EncryptionInfo
	// Checksums are the whole object's checksums the backend stores, by
	// algorithm (big-endian bytes for the CRCs, as the services give
	// them); nil when it stores none it will tell. MD5 above is
	// Checksums[ChecksumMD5] when known.
	Checksums map[ChecksumAlgorithm][]byte
	// Tags are the object's tags (see WriterOptions.Tags); nil when it has
	// none. Where the service keeps them apart from the object's
	// properties (S3, Azure), Attributes asks for them with one more
	// request, only when the object has some.
	Tags map[string]string
}

// SignedURLOptions controls SignedURL. nil means the defaults: a GET URL
// valid for one hour.
type SignedURLOptions struct {
	// Method is "GET", "PUT" or "DELETE"; "" means "GET".
	Method string
	// Expiry is how long the URL works, from 1 second to 7 days; 0 means one
	// hour.
	Expiry time.Duration
	// ContentType, for PUT only, is the Content-Type the upload must carry.
	ContentType string
	// BeforeSign, when not nil, is called once before the URL is signed,
	// as ReaderOptions.BeforeRead is.
	BeforeSign func(asFunc func(any) bool) error
}

// Aser is implemented by buckets, readers and writers that can expose a
// native type (a driver's client, for example) for what the portable API does
// not cover. See the package function As.
type Aser interface {
	// As sets target, a pointer to a native type, and reports whether it could.
	As(target any) bool
}

// As reaches the native type behind v (a Bucket, Reader or Writer) when v
// or the bucket it wraps can provide it: target must be a non-nil pointer to
// the type the provider documents (for example **s3.Client). It reports
// whether target was set.
func As(v any, target any) bool {
	if target == nil {
		return false
	}
	if a, ok := v.(Aser); ok {
		return a.As(target)
	}
	return false
}

// BatchDeleter deletes many keys at once. Every Bucket has it (DeletePrefix
// uses it). A Driver may implement it too, when its service deletes many
// keys in one request; for a Driver without it the shared layer deletes one
// key at a time.
type BatchDeleter interface {
	// DeleteKeys deletes every key; absent keys are not errors. It returns
	// the first error met, after trying every key.
	DeleteKeys(ctx context.Context, keys []string) error
}

// CallHook calls hook (a Before field of an options struct) with asFunc,
// when hook is not nil, and returns its error. Drivers call it where the
// hook's doc says; asFunc is NoNative for a driver with no native request.
func CallHook(hook func(asFunc func(any) bool) error, asFunc func(any) bool) error {
	if hook == nil {
		return nil
	}
	return hook(asFunc)
}

// NativeAs returns the asFunc a driver passes to a Before hook to reach
// p: given a target of type **T (a hook declares var x *T and calls
// asFunc(&x)), it sets it to p and reports true; any other target, false.
// Several natives: call each NativeAs and report whether one matched.
func NativeAs[T any](p *T) func(any) bool {
	return func(target any) bool {
		if pp, ok := target.(**T); ok {
			*pp = p
			return true
		}
		return false
	}
}

// NoNative is the asFunc of backends that have no native request to give a
// Before hook: it sets nothing and reports false.
func NoNative(any) bool { return false }
