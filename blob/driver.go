package blob

import "context"

// Driver is what a provider implements; Bucket is what a user holds. The two
// are separate types so that the compiler, not each provider's memory,
// guarantees the shared rules: a Driver is not a Bucket, and NewBucket is
// the only way to turn one into a Bucket.
//
// NewBucket calls a Driver only with valid input: keys that pass
// ValidateKey, non-negative offsets, non-nil options whose defaults are
// filled in and whose rules are checked (see NewBucket), a live context, and
// never after Close. A Driver does not validate, wrap, retry or classify on
// its own: it returns its native errors (or a *Error from Errorf for errors
// of its own making), and ErrorDetail says what they mean. Delete of an
// absent key may return nil or a not-found error; the shared layer turns the
// latter into nil.
//
// Readers and Writers a Driver returns follow the Reader and Writer
// contracts, but the shared layer already guarantees that Write is never
// called after Close or Abort, that Read and WriteTo are never called after
// a Reader's Close, that Close is called at most once, that a
// failed Write or a canceled context aborts instead of committing, and that
// their errors are classified through the same ErrorDetail.
//
// Optional capabilities a Driver may also implement, found with a type
// assertion: BatchDeleter (many keys in one request) and Aser (the escape
// hatch, see As).
type Driver interface {
	// NewRangeReader reads length bytes of key from offset (length < 0: to
	// the end). An offset at or past the end reads nothing; the Reader's
	// Attrs still describe the whole object.
	NewRangeReader(ctx context.Context, key string, offset, length int64, opts *ReaderOptions) (Reader, error)
	// NewWriter starts a write of key; nothing may be visible until the
	// Writer's Close returns nil.
	NewWriter(ctx context.Context, key string, opts *WriterOptions) (Writer, error)
	// Attributes describes key.
	Attributes(ctx context.Context, key string) (*Attributes, error)
	// List returns one page (opts.PageSize is 1 to DefaultPageSize).
	List(ctx context.Context, opts *ListOptions) (*ListPage, error)
	// Delete removes key.
	Delete(ctx context.Context, key string) error
	// Copy copies srcKey to dstKey on the server side.
	Copy(ctx context.Context, dstKey, srcKey string, opts *CopyOptions) error
	// SignedURL signs opts.Method on key (Method and Expiry are set).
	SignedURL(ctx context.Context, key string, opts *SignedURLOptions) (string, error)
	// Close releases the driver's resources; it is called at most once.
	Close() error
	// ErrorDetail says what err means: err is an error one of the driver's
	// methods, Readers or Writers returned, never nil and never a *Error.
	// A zero ErrorDetail (Kind nil) means the driver does not know err; the
	// shared layer then classifies it by the sentinels and context errors it
	// wraps, else as ErrInternal.
	ErrorDetail(err error) ErrorDetail
}

// ErrorDetail is what a driver says about one of its native errors: the
// sentinel it means and the service's own identifiers, which the shared
// layer copies into the *Error it returns (whose cause stays err, so
// errors.As still reaches the native type).
type ErrorDetail struct {
	// Kind is one of the sentinels (ErrNotFound, ...); nil means unknown.
	Kind error
	// Code is the service's error code ("NoSuchKey", "BlobNotFound").
	Code string
	// Status is the HTTP status, 0 when there was none.
	Status int
	// RequestID is the service's request ID, "" when it sent none.
	RequestID string
	// Message is the service's human-readable message, without the code,
	// status or request ID (which Error prints once); "" means the error's
	// own text. The shared layer folds it onto one line.
	Message string
}
