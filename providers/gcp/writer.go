package gcp

import (
	"bytes"
	"context"
	"crypto/md5"
	"hash"
	"hash/crc32"
	"maps"
	"sync/atomic"
	"time"

	"cloud.google.com/go/storage"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/retry"
)

// NewWriter writes key with the storage library's Writer.
//
// What is verified: an object that fits in one chunk (PartSize, 16 MiB by
// default) is held until Close and sent in one request that declares its
// CRC32C, which the service checks before it stores anything: a body
// corrupted on the way is refused, and sent again as Options.Retry allows
// (the bytes are still here); if it keeps arriving changed the write fails
// with ErrInternal and leaves nothing. A larger object is a resumable
// upload in chunks: the library sends the whole object's CRC32C with the
// last chunk (X-Goog-Hash), and GCS checks it before the object is
// finalized (fake-gcs-server does not). Full reads verify the stored
// CRC32C (see NewRangeReader).
//
// With Options.ComposeWrites, an unconditional write larger than one part
// is sent as parts composed at Close (see Options.ComposeWrites).
//
// BeforeWrite reaches the *storage.Writer before any data is sent; when a
// single request is sent again, it reaches the fresh Writer too. A
// composed write's hook reaches, instead, the *storage.ObjectAttrs its
// compose gives the object, before the first part is sent.
func (d *driver) NewWriter(ctx context.Context, key string, opts *blob.WriterOptions) (blob.Writer, error) {
	if len(opts.Tags) > 0 {
		return nil, blob.Errorf(blob.ErrNotImplemented, "gs: GCS objects have no tags; use Metadata (or bucket labels) instead")
	}
	if err := checkEncryption(opts.Encryption); err != nil {
		return nil, err
	}
	switch opts.Checksum {
	case "", blob.ChecksumCRC32C, blob.ChecksumMD5:
	default:
		return nil, blob.Errorf(blob.ErrNotImplemented, "gs: GCS stores a CRC32C and an MD5 of an object, not a %s", opts.Checksum)
	}
	ro, retried := d.c.retrying(ctx)
	obj := withKey(d.bkt.Object(key).Retryer(ro), opts.Encryption) // Object copies the settings: ro is this write's own
	plain := obj
	conditional := opts.IfNotExist || opts.IfMatch != ""
	switch {
	case opts.IfNotExist:
		obj = obj.If(storage.Conditions{DoesNotExist: true})
	case opts.IfMatch != "":
		g, err := generationOf(opts.IfMatch)
		if err != nil {
			return nil, err
		}
		obj = obj.If(storage.Conditions{GenerationMatch: g})
	}
	wctx, cancel := context.WithCancel(ctx)
	// A composed write calls BeforeWrite once it knows which request
	// comes first: the one-request Writer, or the compose's attributes.
	composed := d.composes(opts)
	hookOpen := !composed
	open := func() (*storage.Writer, error) {
		w := obj.NewWriter(wctx)
		w.ChunkSize = DefaultPartSize
		if opts.PartSize > 0 {
			w.ChunkSize = int(min(opts.PartSize, 1<<30))
		}
		w.ContentType = opts.ContentType
		if w.ContentType == "" {
			w.ContentType = "application/octet-stream"
		}
		w.ContentEncoding = opts.ContentEncoding
		w.ContentDisposition = opts.ContentDisposition
		w.ContentLanguage = opts.ContentLanguage
		w.CacheControl = opts.CacheControl
		w.Metadata = maps.Clone(opts.Metadata)
		w.StorageClass = opts.StorageClass
		if opts.Encryption != nil {
			w.KMSKeyName = opts.Encryption.KMSKey
		}
		if hookOpen {
			if err := blob.CallHook(opts.BeforeWrite, blob.NativeAs(w)); err != nil {
				return nil, err
			}
		}
		return w, nil
	}
	w, err := open()
	if err != nil {
		cancel()
		return nil, err
	}
	gw := &writer{w: w, open: open, ctx: wctx, cancel: cancel, retry: d.c.retry,
		crc: crc32.New(castagnoli), retried: retried, plain: plain, conditional: conditional}
	if opts.Checksum == blob.ChecksumMD5 {
		gw.md5 = md5.New()
	}
	if composed {
		beforeOne := func() error {
			hookOpen = true // a Writer opened again for a resend is hooked too
			return blob.CallHook(opts.BeforeWrite, blob.NativeAs(gw.w))
		}
		return d.composedWriter(ctx, key, opts, gw, beforeOne), nil
	}
	return gw, nil
}

// writer holds the first chunk itself: an object that ends within it
// goes in one request with its CRC32C declared; once it outgrows it, the
// library's resumable upload takes over.
type writer struct {
	w       *storage.Writer
	open    func() (*storage.Writer, error) // a fresh, configured Writer
	ctx     context.Context
	cancel  context.CancelFunc
	retry   *retry.Retrier
	buf     []byte // the data so far, until it outgrows a chunk
	started bool   // w has been written to: buf is no longer used

	// For a conditional write whose answer was lost (see lostAnswer).
	crc         hash.Hash32   // CRC32C of everything written
	md5         hash.Hash     // its MD5, when WriterOptions.Checksum asks for MD5
	n           int64         // bytes written
	retried     *atomic.Int32 // requests sent again
	plain       *storage.ObjectHandle
	conditional bool
}

func (w *writer) Write(p []byte) (int, error) {
	w.crc.Write(p)
	if w.md5 != nil {
		w.md5.Write(p)
	}
	w.n += int64(len(p))
	if w.started {
		return w.w.Write(p)
	}
	if need := len(w.buf) + len(p); need <= w.w.ChunkSize {
		if need > cap(w.buf) {
			// Doubling, not append's growth: for large slices append grows
			// by a quarter at a time, so filling a 16 MiB chunk allocated
			// some 80 MiB on the way (a 128 MiB upload peaked at 97 MiB of
			// heap against the storage client's 17).
			grown := make([]byte, len(w.buf), min(max(2*cap(w.buf), need, 64<<10), w.w.ChunkSize))
			copy(grown, w.buf)
			w.buf = grown
		}
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	w.started = true
	if _, err := w.w.Write(w.buf); err != nil {
		return 0, err
	}
	w.buf = nil
	return w.w.Write(p)
}

func (w *writer) Close() error {
	defer w.cancel()
	if w.started {
		if err := w.lostAnswer(w.w.Close()); err != nil {
			return err
		}
		return w.verifyStored()
	}
	sum := w.crc.Sum32()
	for attempt := 1; ; attempt++ {
		err := w.send(sum)
		if err == nil || !checksumMismatch(err) || w.retry.Again(w.ctx, attempt, err) != nil {
			w.buf = nil
			return w.lostAnswer(err)
		}
		// The body arrived changed and the service refused it: the bytes
		// are still here, so send them again (the library's own retries
		// cannot tell this 400 from any other).
		if w.w, err = w.open(); err != nil {
			return err
		}
	}
}

// lostAnswer is err, unless a request was sent again after its answer was
// lost and the object holds exactly what this write sent (its CRC32C and
// size): then the earlier attempt wrote it, and the write succeeded. The
// retry's refusal says so in two ways: a conditional write finds its own
// object and is refused (412); a resumable upload's last chunk finds its
// session gone, finalized by the earlier attempt (404, as fake-gcs-server
// answers). An object written by someone else fails the write as it
// should.
func (w *writer) lostAnswer(err error) error {
	if err == nil || w.retried.Load() == 0 {
		return err
	}
	switch errorDetail(err).Kind {
	case blob.ErrPreconditionFailed:
		if !w.conditional {
			return err
		}
	case blob.ErrNotFound:
		if !w.started {
			return err
		}
	default:
		return err
	}
	a, aerr := w.plain.Attrs(w.ctx)
	if aerr == nil && a.CRC32C == w.crc.Sum32() && a.Size == w.n {
		return nil
	}
	if aerr == nil && w.conditional && errorDetail(err).Kind == blob.ErrNotFound {
		// The session is gone and another object is there: the earlier
		// attempt was refused by the condition, whose answer was lost.
		return blob.Errorf(blob.ErrPreconditionFailed, "gs: the condition did not hold: the object is not this write's (the answer to its last chunk was lost, and the retry found the upload closed: %v)", err)
	}
	return err
}

// verifyStored checks that the object a resumable upload finalized is
// what was written: its size and CRC32C. GCS checks the CRC32C the library
// sends with the last chunk before it finalizes, so there this never
// fails; a server that does not (fake-gcs-server, which also appends a
// resent chunk instead of placing it at its offset) may store something
// else. Such an object is deleted (that generation only) and the write
// fails with ErrInternal; the version it replaced is gone by then.
func (w *writer) verifyStored() error {
	a := w.w.Attrs()
	if a == nil || a.Size == w.n && a.CRC32C == w.crc.Sum32() && (w.md5 == nil || a.MD5 == nil || bytes.Equal(a.MD5, w.md5.Sum(nil))) {
		return nil
	}
	return deleteWrong(w.ctx, w.plain, a, w.n, w.crc.Sum32())
}

// deleteWrong deletes generation a of obj, which holds something other
// than the size bytes with CRC32C crc that were written, and returns the
// write's ErrInternal, saying so and whether the delete worked. The
// delete runs even when ctx has ended, for at most a minute.
func deleteWrong(ctx context.Context, obj *storage.ObjectHandle, a *storage.ObjectAttrs, size int64, crc uint32) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	derr := obj.If(storage.Conditions{GenerationMatch: a.Generation}).Delete(ctx)
	outcome := "it was deleted"
	if derr != nil {
		outcome = "deleting it failed: " + derr.Error()
	}
	return blob.Errorf(blob.ErrInternal, "gs: the service stored %d bytes with CRC32C %08x, not the %d bytes with CRC32C %08x written; %s",
		a.Size, a.CRC32C, size, crc, outcome)
}

// send sends the whole object in one request, declaring its CRC32C (and
// its MD5, when asked for), which the service checks before it stores it.
func (w *writer) send(sum uint32) error {
	w.w.CRC32C = sum
	w.w.SendCRC32C = true
	if w.md5 != nil {
		w.w.MD5 = w.md5.Sum(nil)
	}
	if _, err := w.w.Write(w.buf); err != nil {
		_ = w.w.Close()
		return err
	}
	return w.w.Close()
}

// Abort cancels the upload: the object is never created.
func (w *writer) Abort(error) error {
	w.cancel()
	w.buf = nil
	_ = w.w.Close() // returns the cancellation; nothing was committed
	return nil
}

// As exposes **storage.Writer.
func (w *writer) As(target any) bool {
	if p, ok := target.(**storage.Writer); ok {
		*p = w.w
		return true
	}
	return false
}
