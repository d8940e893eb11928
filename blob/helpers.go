package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
)

// ReadAll reads the whole object at key. Errors are those of
// NewRangeReader and Read: ErrNotFound for an absent key, and so on.
func ReadAll(ctx context.Context, b Bucket, key string) ([]byte, error) {
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := readSized(r, r.Attrs().Size)
	if err == io.ErrUnexpectedEOF {
		err = wrapError(ctx, Errorf(ErrInternal, "the object ended before its size, %d bytes", r.Attrs().Size), nil, "", "", OpRead, key)
	}
	if err != nil {
		return nil, err
	}
	if err := r.Close(); err != nil {
		return nil, err
	}
	return data, nil
}

// readSized reads r to its end into one allocation of size bytes when size
// is known (and under 1 GiB), growing only if r holds more than it said.
func readSized(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size >= 1<<30 {
		return io.ReadAll(r)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	var one [1]byte
	n, err := io.ReadFull(r, one[:])
	if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
		return data, nil
	}
	if err != nil {
		return nil, err
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return append(append(data, one[0]), rest...), nil
}

// WriteAll writes data as the object at key, with opts (nil means the
// defaults). On any failure the write is aborted and nothing is visible.
func WriteAll(ctx context.Context, b Bucket, key string, data []byte, opts *WriterOptions) error {
	w, err := b.NewWriter(ctx, key, opts)
	if err != nil {
		return err
	}
	// One Write of the whole: the driver can size its buffer exactly.
	if _, err := w.Write(data); err != nil {
		_ = w.Abort(err)
		return err
	}
	return w.Close()
}

// Upload streams r into the object at key, with opts (nil means the
// defaults), whatever r's length. On any failure, reading r included, the
// write is aborted and nothing is visible. A failure to read r is a *Error
// whose cause is the reader's error (ErrCanceled for context errors,
// ErrInternal otherwise).
func Upload(ctx context.Context, b Bucket, key string, r io.Reader, opts *WriterOptions) error {
	w, err := b.NewWriter(ctx, key, opts)
	if err != nil {
		return err
	}
	var src io.Reader = sourceReader{r}
	if ra, ok := r.(seekReaderAt); ok {
		// Keep ReadAt and Seek visible: a driver may then send a file or
		// a bytes.Reader in sections, without part buffers.
		src = sourceReaderAt{sourceReader{r}, ra}
	}
	if _, err := io.Copy(w, src); err != nil {
		_ = w.Abort(err)
		var se sourceError
		if errors.As(err, &se) {
			return wrapError(ctx, fmt.Errorf("reading the source: %w", se.err), nil, "", "", OpWrite, key)
		}
		return err
	}
	return w.Close()
}

// sourceReader marks errors that come from the caller's reader, so Upload
// can tell them from the bucket's.
type sourceReader struct{ r io.Reader }

type sourceError struct{ err error }

func (e sourceError) Error() string { return e.err.Error() }
func (e sourceError) Unwrap() error { return e.err }

// seekReaderAt is a source a driver can read in sections.
type seekReaderAt interface {
	io.ReaderAt
	io.Seeker
}

// sourceReaderAt is a sourceReader that also marks ReadAt's and Seek's
// errors as the source's.
type sourceReaderAt struct {
	sourceReader
	ra seekReaderAt
}

func (s sourceReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.ra.ReadAt(p, off)
	if err != nil && err != io.EOF {
		err = sourceError{err}
	}
	return n, err
}

func (s sourceReaderAt) Seek(offset int64, whence int) (int64, error) {
	n, err := s.ra.Seek(offset, whence)
	if err != nil {
		err = sourceError{err}
	}
	return n, err
}

// writeTo hands what is left of the source to w through the source's own
// WriteTo, when it has one (a bytes.Reader makes one Write of it, with no
// copy through a buffer); ok is false when it has none. An error that is
// not w's is the source's. Upload's writer uses it for a driver that
// takes no io.ReaderFrom; the source itself shows no WriteTo, which io.Copy
// would prefer to a driver's ReadFrom (and its sections).
func (s sourceReader) writeTo(w io.Writer) (n int64, ok bool, err error) {
	wt, ok := s.r.(io.WriterTo)
	if !ok {
		return 0, false, nil
	}
	dw := &destWriter{w: w}
	n, err = wt.WriteTo(dw)
	if err != nil && !dw.failed {
		err = sourceError{err}
	}
	return n, true, err
}

// destWriter records whether its writer failed.
type destWriter struct {
	w      io.Writer
	failed bool
}

func (d *destWriter) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	if err != nil || n < len(p) {
		d.failed = true
	}
	return n, err
}

func (s sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = sourceError{err}
	}
	return n, err
}

// Download copies the whole object at key to w. A failure to write to w is
// a *Error whose cause is w's error.
func Download(ctx context.Context, b Bucket, key string, w io.Writer) error {
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := io.Copy(sinkWriter{w}, r); err != nil {
		var se sourceError
		if errors.As(err, &se) {
			return wrapError(ctx, fmt.Errorf("writing the destination: %w", se.err), nil, "", "", OpRead, key)
		}
		return err
	}
	return r.Close()
}

// DownloadAt writes the whole object at key into w, byte i at offset i,
// and returns the bytes written. Where the read goes parallel (a large
// object over a link one connection cannot fill; see the providers' docs)
// each part is written as soon as it arrives, from the goroutine that
// fetched it, so w must take WriteAt calls in parallel on ranges that do
// not overlap, as io.WriterAt allows and *os.File does; other reads write
// in order. Where the object's checksum is a CRC (S3's CRC32C or
// CRC64NVME, GCS's CRC32C) each part is also checked where it lands and
// the parts' sums are joined, so no part waits for a slower one before
// it; Azure's MD5 is hashed in order, from what w reads back when it is
// also an io.ReaderAt (a file), else by holding parts until the ones
// before them are hashed. The object's checks cover every byte, but bytes
// are written before the check at the end: on an error, w holds a partial
// or damaged object, and the caller discards it. A failure of w (to write
// or to read back) is a *Error whose cause is w's error; the read's own
// errors are returned as Download returns them.
func DownloadAt(ctx context.Context, b Bucket, key string, w io.WriterAt) (int64, error) {
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var n int64
	if wa, ok := r.(WriterAtTo); ok {
		var sink io.WriterAt = sinkWriterAt{w}
		if ra, ok := w.(io.ReaderAt); ok {
			// A file reads back what was written: a read checked by
			// MD5 (Azure) checks the bytes there instead of holding
			// parts in memory until the ones before them are hashed.
			sink = sinkReadWriterAt{sinkWriterAt{w}, ra}
		}
		n, err = wa.WriteAtTo(sink)
	} else {
		n, err = io.Copy(sinkWriter{io.NewOffsetWriter(w, 0)}, r)
	}
	if err != nil {
		var se sourceError
		if errors.As(err, &se) {
			return n, wrapError(ctx, fmt.Errorf("writing the destination: %w", se.err), nil, "", "", OpRead, key)
		}
		return n, err
	}
	return n, r.Close()
}

// sinkWriterAt marks errors that come from the caller's WriterAt.
type sinkWriterAt struct{ w io.WriterAt }

func (s sinkWriterAt) WriteAt(p []byte, off int64) (int, error) {
	n, err := s.w.WriteAt(p, off)
	if err != nil {
		err = sourceError{err}
	}
	return n, err
}

// sinkReadWriterAt is a sinkWriterAt that also reads back, marking its
// read errors as the destination's too.
type sinkReadWriterAt struct {
	sinkWriterAt
	r io.ReaderAt
}

func (s sinkReadWriterAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.r.ReadAt(p, off)
	if err != nil && err != io.EOF {
		err = sourceError{err}
	}
	return n, err
}

// sinkWriter marks errors that come from the caller's writer.
type sinkWriter struct{ w io.Writer }

func (s sinkWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil {
		err = sourceError{err}
	}
	return n, err
}

// Exists reports whether key exists. An absent key is (false, nil); any
// other failure is returned as it is.
func Exists(ctx context.Context, b Bucket, key string) (bool, error) {
	_, err := b.Attributes(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// Objects lists every object (and, with opts.Delimiter, every common prefix,
// as an ObjectInfo with IsPrefix set) across all pages, in lexicographic byte
// order. opts.PageToken, if set, is where it starts. On an error it yields
// the error once, with a zero ObjectInfo, and stops. Breaking out of the loop
// stops the listing.
func Objects(ctx context.Context, b Bucket, opts *ListOptions) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		o := ListOptions{}
		if opts != nil {
			o = *opts
		}
		for {
			page, err := b.List(ctx, &o)
			if err != nil {
				yield(ObjectInfo{}, err)
				return
			}
			objs, prefixes := page.Objects, page.Prefixes
			for len(objs) > 0 || len(prefixes) > 0 {
				var next ObjectInfo
				if len(prefixes) == 0 || (len(objs) > 0 && objs[0].Key < prefixes[0]) {
					next, objs = objs[0], objs[1:]
				} else {
					next, prefixes = ObjectInfo{Key: prefixes[0], IsPrefix: true}, prefixes[1:]
				}
				if !yield(next, nil) {
					return
				}
			}
			if page.NextPageToken == "" {
				return
			}
			o.PageToken = page.NextPageToken
		}
	}
}

// DeletePrefix deletes every object whose key starts with prefix ("" means
// every object in the bucket) and returns how many it deleted. It deletes
// page by page, in batches where the provider has a batch call.
//
// Then it lists the prefix again, and deletes what it finds, up to
// DeletePrefixRounds passes in all: a server may list a key only once
// another is gone (MinIO hides a/1 while an object a exists), and writers
// may add objects meanwhile. What is still there after the last pass is an
// error of kind ErrInternal that counts it, never a silent success; its
// other errors are List's and Delete's.
func DeletePrefix(ctx context.Context, b Bucket, prefix string) (int, error) {
	n := 0
	for round := 1; ; round++ {
		deleted, err := deletePass(ctx, b, prefix)
		n += deleted
		if err != nil {
			return n, err
		}
		left, err := countPrefix(ctx, b, prefix)
		if err != nil {
			return n, err
		}
		if left == 0 {
			return n, nil
		}
		if round == DeletePrefixRounds {
			more := ""
			if left >= maxCount {
				more = " or more"
			}
			return n, b.shared().err(ctx, Errorf(ErrInternal, "deleted %d objects, and %d%s remain under the prefix after %d passes (a server that lists some keys only once others are gone, or writers adding objects); run it again", n, left, more, round), OpDelete, prefix)
		}
	}
}

// DeletePrefixRounds is how many passes DeletePrefix makes at most.
const DeletePrefixRounds = 3

// maxCount bounds the count of what is left that DeletePrefix reports.
const maxCount = 10000

// deletePass deletes what one listing of prefix shows.
func deletePass(ctx context.Context, b Bucket, prefix string) (int, error) {
	o := ListOptions{Prefix: prefix}
	n := 0
	for {
		page, err := b.List(ctx, &o)
		if err != nil {
			return n, err
		}
		keys := make([]string, len(page.Objects))
		for i, obj := range page.Objects {
			keys[i] = obj.Key
		}
		if len(keys) > 0 {
			if err := b.shared().DeleteKeys(ctx, keys); err != nil {
				return n, err
			}
			n += len(keys)
		}
		if page.NextPageToken == "" {
			return n, nil
		}
		o.PageToken = page.NextPageToken
	}
}

// countPrefix counts the objects under prefix, up to maxCount.
func countPrefix(ctx context.Context, b Bucket, prefix string) (int, error) {
	o := ListOptions{Prefix: prefix}
	n := 0
	for n < maxCount {
		page, err := b.List(ctx, &o)
		if err != nil {
			return n, err
		}
		n += len(page.Objects)
		if page.NextPageToken == "" {
			break
		}
		o.PageToken = page.NextPageToken
	}
	return min(n, maxCount), nil
}
