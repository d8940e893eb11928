package blob

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// Defaults that NewBucket fills in before a driver sees the options.
const (
	// DefaultPageSize is the page size when ListOptions.PageSize is 0, and
	// the largest page size allowed.
	DefaultPageSize = 1000
	// DefaultSignedURLExpiry is the expiry when SignedURLOptions.Expiry is 0.
	DefaultSignedURLExpiry = time.Hour
	// MaxSignedURLExpiry is the longest expiry SignedURL accepts (7 days, the
	// limit of SigV4 presigning).
	MaxSignedURLExpiry = 7 * 24 * time.Hour
)

// NewBucket wraps a provider's bucket (a driver) with the checks and
// normalisation that are the same for every provider, so each driver is
// written against already-valid input:
//   - keys are checked with ValidateKey, offsets must not be negative, and
//     options are checked (metadata rules, IfNotExist with IfMatch, negative
//     PartSize, Concurrency or PageSize, signed URL method and expiry);
//   - nil options become pointers to zero values with the defaults filled in
//     (PageSize, SignedURL Method and Expiry; metadata keys lower-cased), so
//     a driver never sees a nil options pointer;
//   - every error, including those of the Reader and Writer, becomes a
//     *Error naming the operation, provider, bucket and key, with exactly one
//     sentinel; a canceled or expired context gives ErrCanceled;
//   - a Writer whose context is canceled before Close is aborted, Close
//     after Abort and Write after Close fail, and Attributes' Metadata is
//     never nil.
//
// provider is the scheme ("s3", "azblob", "gs", "file", "mem") and name the
// bucket's name, both used in errors. Wrapping a bucket NewBucket returned
// gives it back unchanged.
func NewBucket(provider, name string, driver Bucket) Bucket {
	if b, ok := driver.(*bucket); ok {
		return b
	}
	return &bucket{provider: provider, name: name, d: driver}
}

type bucket struct {
	provider, name string
	d              Bucket

	mu     sync.RWMutex
	closed bool
}

func (b *bucket) err(ctx context.Context, err error, op, key string) error {
	return wrapError(ctx, err, b.provider, b.name, op, key)
}

// check runs the checks every operation shares: a live bucket, a live
// context and a valid key.
func (b *bucket) check(ctx context.Context, op, key string) error {
	b.mu.RLock()
	closed := b.closed
	b.mu.RUnlock()
	if closed {
		return b.err(ctx, Errorf(ErrInvalidArgument, "bucket is closed"), op, key)
	}
	if ctx == nil {
		return b.err(nil, Errorf(ErrInvalidArgument, "nil context"), op, key)
	}
	if err := ctx.Err(); err != nil {
		return b.err(ctx, err, op, key)
	}
	if op != "List" {
		if err := ValidateKey(key); err != nil {
			return b.err(ctx, err, op, key)
		}
	}
	return nil
}

func (b *bucket) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *ReaderOptions) (Reader, error) {
	const op = "NewRangeReader"
	if err := b.check(ctx, op, key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, b.err(ctx, Errorf(ErrInvalidArgument, "negative offset %d", offset), op, key)
	}
	o := ReaderOptions{}
	if opts != nil {
		o = *opts
	}
	r, err := b.d.NewRangeReader(ctx, key, offset, length, &o)
	if err != nil {
		return nil, b.err(ctx, err, op, key)
	}
	return &reader{ctx: ctx, b: b, key: key, r: r}, nil
}

func (b *bucket) NewWriter(ctx context.Context, key string, opts *WriterOptions) (Writer, error) {
	const op = "NewWriter"
	if err := b.check(ctx, op, key); err != nil {
		return nil, err
	}
	o := WriterOptions{}
	if opts != nil {
		o = *opts
	}
	if err := checkWriterOptions(&o); err != nil {
		return nil, b.err(ctx, err, op, key)
	}
	w, err := b.d.NewWriter(ctx, key, &o)
	if err != nil {
		return nil, b.err(ctx, err, op, key)
	}
	return &writer{ctx: ctx, b: b, key: key, w: w}, nil
}

func checkWriterOptions(o *WriterOptions) error {
	if o.IfNotExist && o.IfMatch != "" {
		return Errorf(ErrInvalidArgument, "IfNotExist and IfMatch cannot both be set")
	}
	if o.PartSize < 0 {
		return Errorf(ErrInvalidArgument, "negative PartSize %d", o.PartSize)
	}
	if o.Concurrency < 0 {
		return Errorf(ErrInvalidArgument, "negative Concurrency %d", o.Concurrency)
	}
	md, err := ValidateMetadata(o.Metadata)
	if err != nil {
		return err
	}
	o.Metadata = md
	return nil
}

func (b *bucket) Attributes(ctx context.Context, key string) (*Attributes, error) {
	const op = "Attributes"
	if err := b.check(ctx, op, key); err != nil {
		return nil, err
	}
	a, err := b.d.Attributes(ctx, key)
	if err != nil {
		return nil, b.err(ctx, err, op, key)
	}
	if a.Metadata == nil {
		a.Metadata = map[string]string{}
	}
	return a, nil
}

func (b *bucket) List(ctx context.Context, opts *ListOptions) (*ListPage, error) {
	const op = "List"
	if err := b.check(ctx, op, ""); err != nil {
		return nil, err
	}
	o := ListOptions{}
	if opts != nil {
		o = *opts
	}
	if err := checkListText("Prefix", o.Prefix); err != nil {
		return nil, b.err(ctx, err, op, "")
	}
	if err := checkListText("Delimiter", o.Delimiter); err != nil {
		return nil, b.err(ctx, err, op, "")
	}
	switch {
	case o.PageSize < 0:
		return nil, b.err(ctx, Errorf(ErrInvalidArgument, "negative PageSize %d", o.PageSize), op, "")
	case o.PageSize == 0 || o.PageSize > DefaultPageSize:
		o.PageSize = DefaultPageSize
	}
	p, err := b.d.List(ctx, &o)
	if err != nil {
		return nil, b.err(ctx, err, op, "")
	}
	return p, nil
}

// checkListText applies the key rules, but for emptiness, to a list prefix
// or delimiter: no key could match one that breaks them.
func checkListText(what, s string) error {
	if s == "" {
		return nil
	}
	if err := ValidateKey(s); err != nil {
		return Errorf(ErrInvalidArgument, "list %s: %v", what, err.(*Error).Err)
	}
	return nil
}

func (b *bucket) Delete(ctx context.Context, key string) error {
	const op = "Delete"
	if err := b.check(ctx, op, key); err != nil {
		return err
	}
	if err := b.d.Delete(ctx, key); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return b.err(ctx, err, op, key)
	}
	return nil
}

// DeleteKeys deletes every key, with the driver's batch call when it has
// one, else one Delete per key.
func (b *bucket) DeleteKeys(ctx context.Context, keys []string) error {
	const op = "DeleteKeys"
	for _, k := range keys {
		if err := b.check(ctx, op, k); err != nil {
			return err
		}
	}
	if bd, ok := b.d.(BatchDeleter); ok {
		if err := bd.DeleteKeys(ctx, keys); err != nil {
			return b.err(ctx, err, op, "")
		}
		return nil
	}
	var first error
	for _, k := range keys {
		if err := b.Delete(ctx, k); err != nil && first == nil {
			first = err
			if ctx.Err() != nil {
				break
			}
		}
	}
	return first
}

func (b *bucket) Copy(ctx context.Context, dstKey, srcKey string, opts *CopyOptions) error {
	const op = "Copy"
	if err := b.check(ctx, op, srcKey); err != nil {
		return err
	}
	if err := b.check(ctx, op, dstKey); err != nil {
		return err
	}
	o := CopyOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Metadata != nil {
		md, err := ValidateMetadata(o.Metadata)
		if err != nil {
			return b.err(ctx, err, op, dstKey)
		}
		o.Metadata = md
	}
	if err := b.d.Copy(ctx, dstKey, srcKey, &o); err != nil {
		return b.err(ctx, err, op, dstKey)
	}
	return nil
}

func (b *bucket) SignedURL(ctx context.Context, key string, opts *SignedURLOptions) (string, error) {
	const op = "SignedURL"
	if err := b.check(ctx, op, key); err != nil {
		return "", err
	}
	o := SignedURLOptions{}
	if opts != nil {
		o = *opts
	}
	if err := checkSignedURLOptions(&o); err != nil {
		return "", b.err(ctx, err, op, key)
	}
	u, err := b.d.SignedURL(ctx, key, &o)
	if err != nil {
		return "", b.err(ctx, err, op, key)
	}
	return u, nil
}

func checkSignedURLOptions(o *SignedURLOptions) error {
	switch o.Method {
	case "":
		o.Method = http.MethodGet
	case http.MethodGet, http.MethodPut, http.MethodDelete:
	default:
		return Errorf(ErrInvalidArgument, "signed URL method %q is not GET, PUT or DELETE", o.Method)
	}
	switch {
	case o.Expiry == 0:
		o.Expiry = DefaultSignedURLExpiry
	case o.Expiry < time.Second || o.Expiry > MaxSignedURLExpiry:
		return Errorf(ErrInvalidArgument, "signed URL expiry %v is not between 1s and 7 days", o.Expiry)
	}
	if o.ContentType != "" && o.Method != http.MethodPut {
		return Errorf(ErrInvalidArgument, "signed URL ContentType is only for PUT, not %s", o.Method)
	}
	return nil
}

func (b *bucket) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return b.err(nil, Errorf(ErrInvalidArgument, "bucket is already closed"), "Close", "")
	}
	b.closed = true
	b.mu.Unlock()
	return b.err(nil, b.d.Close(), "Close", "")
}

// As reaches the driver's native types.
func (b *bucket) As(target any) bool { return As(b.d, target) }

// String returns "provider://name".
func (b *bucket) String() string { return b.provider + "://" + b.name }

type reader struct {
	ctx context.Context // the read's context, for error classification only
	b   *bucket
	key string
	r   Reader
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = r.b.err(r.ctx, err, "Read", r.key)
	}
	return n, err
}

func (r *reader) Close() error {
	return r.b.err(nil, r.r.Close(), "Close", r.key)
}

func (r *reader) Attrs() ReaderAttrs { return r.r.Attrs() }

func (r *reader) As(target any) bool { return As(r.r, target) }

// WriteTo lets io.Copy use the driver's WriteTo when it has one.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := r.r.(io.WriterTo); ok {
		n, err := wt.WriteTo(w)
		if err != nil {
			err = r.b.err(r.ctx, err, "Read", r.key)
		}
		return n, err
	}
	return io.Copy(w, struct{ io.Reader }{r})
}

type writer struct {
	ctx context.Context // the write's context: canceled means abort
	b   *bucket
	key string
	w   Writer

	mu   sync.Mutex
	done bool  // Close or Abort was called
	err  error // sticky error from Write
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, w.b.err(w.ctx, Errorf(ErrInvalidArgument, "write after Close or Abort"), "Write", w.key)
	}
	if w.err != nil {
		return 0, w.err
	}
	if err := w.ctx.Err(); err != nil {
		w.err = w.b.err(w.ctx, err, "Write", w.key)
		return 0, w.err
	}
	n, err := w.w.Write(p)
	if err != nil {
		w.err = w.b.err(w.ctx, err, "Write", w.key)
		return n, w.err
	}
	return n, nil
}

// copyBufs holds the buffers ReadFrom copies through when the driver cannot
// read from the source itself: 1 MiB, because cloud writers take large
// writes much faster than io.Copy's 32 KiB ones (measured: about 1.5x on
// the GCS client).
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// ReadFrom lets io.Copy hand the source to the driver when it can stream
// from a reader directly, and otherwise copies in 1 MiB writes.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	w.mu.Lock()
	rf, ok := w.w.(io.ReaderFrom)
	w.mu.Unlock()
	if !ok {
		buf := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(buf)
		return io.CopyBuffer(struct{ io.Writer }{w}, r, *buf)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, w.b.err(w.ctx, Errorf(ErrInvalidArgument, "write after Close or Abort"), "Write", w.key)
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := rf.ReadFrom(r)
	if err != nil {
		w.err = w.b.err(w.ctx, err, "Write", w.key)
		return n, w.err
	}
	return n, nil
}

func (w *writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return w.b.err(w.ctx, Errorf(ErrInvalidArgument, "Close after Close or Abort"), "Close", w.key)
	}
	w.done = true
	if w.err != nil {
		// A failed Write poisons the object: never commit a partial one.
		_ = w.w.Abort(w.err)
		return w.err
	}
	if err := w.ctx.Err(); err != nil {
		_ = w.w.Abort(err)
		return w.b.err(w.ctx, err, "Close", w.key)
	}
	return w.b.err(w.ctx, w.w.Close(), "Close", w.key)
}

func (w *writer) Abort(reason error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return w.b.err(nil, Errorf(ErrInvalidArgument, "Abort after Close or Abort"), "Abort", w.key)
	}
	w.done = true
	return w.b.err(nil, w.w.Abort(reason), "Abort", w.key)
}

func (w *writer) As(target any) bool { return As(w.w, target) }
