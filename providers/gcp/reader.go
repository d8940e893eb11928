package gcp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"

	"cloud.google.com/go/storage"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/pread"
)

// NewRangeReader reads with the storage client's reader, which resumes a
// body cut short and checks a full read against the object's CRC32C.
//
// A full read of an object of two parts or more (Options.ReadPartSize, 4
// MiB) goes parallel when one connection is the limit, with the engine
// every provider shares (internal/pread): its first MiB is timed and,
// below 128 MiB/s, the rest is fetched as ranges over
// up to Options.ReadConcurrency (16) connections at once (internal/pread
// adapts how many), each pinned to the
// first answer's generation, handed over in order, and the whole stream
// is checked against the object's CRC32C (an object served decompressed,
// or whose CRC32C the answer did not carry, is read in one stream). The
// storage library's transfermanager downloads in parallel too, but into a
// buffer or file, not as a streaming Reader.
func (d *driver) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *blob.ReaderOptions) (blob.Reader, error) {
	obj := withKey(d.object(ctx, key), opts.Encryption)
	if opts.IfMatch != "" {
		g, err := generationOf(opts.IfMatch)
		if err != nil {
			return nil, err
		}
		// The service checks the match and serves that generation.
		obj = obj.If(storage.Conditions{GenerationMatch: g})
	}
	if length == 0 {
		// Nothing to read, but the object must exist and Attrs describe it.
		a, err := obj.Attrs(ctx)
		if err != nil {
			return nil, err
		}
		return emptyReader(a), nil
	}
	// Declared var h *storage.ObjectHandle, a hook sees the handle; declared
	// var h **storage.ObjectHandle, it can replace it (obj.Key for CSEK).
	objp := &obj
	err := blob.CallHook(opts.BeforeRead, func(t any) bool { return blob.NativeAs(obj)(t) || blob.NativeAs(objp)(t) })
	if err != nil {
		return nil, err
	}
	r, err := obj.NewRangeReader(ctx, offset, length)
	if err != nil {
		if status(err) == http.StatusRequestedRangeNotSatisfiable {
			a, aerr := obj.Attrs(ctx)
			if aerr != nil {
				return nil, aerr
			}
			return emptyReader(a), nil
		}
		return nil, customerKeyError(err, opts.Encryption != nil)
	}
	if opts.IfMatch != "" && etagOf(r.Attrs.Generation) != opts.IfMatch {
		// Emulators may ignore the precondition; the generation served
		// is what counts.
		r.Close()
		return nil, blob.Errorf(blob.ErrPreconditionFailed, "generation is %d, not %s", r.Attrs.Generation, opts.IfMatch)
	}
	ro := d.c.read
	if opts.Concurrency > 0 {
		ro.Concurrency = opts.Concurrency
	}
	if offset == 0 && length < 0 && !r.Attrs.Decompressed && r.Attrs.CRC32C != 0 && ro.Worth(r.Attrs.Size) {
		p := d.parallel(ctx, obj, r, ro)
		return &parallelReader{reader: &reader{r: r, body: p}, p: p}, nil
	}
	return &reader{r: r, body: r}, nil
}

// parallel is a full read whose first answer is r: a read that goes
// parallel when one connection is the limit, each part a range of obj
// pinned to r's generation, the whole stream checked against r's CRC32C.
func (d *driver) parallel(ctx context.Context, obj *storage.ObjectHandle, r *storage.Reader, ro pread.Options) *pread.Reader {
	want := binary.BigEndian.AppendUint32(nil, r.Attrs.CRC32C)
	check := &pread.Check{Hash: crc32.New(crc32.MakeTable(crc32.Castagnoli)), Algorithm: blob.ChecksumCRC32C, Verify: func(got []byte) error {
		if !bytes.Equal(got, want) {
			return blob.Errorf(blob.ErrInternal, "gs: checksum mismatch: object CRC32C is %s, read data has %s",
				base64.StdEncoding.EncodeToString(want), base64.StdEncoding.EncodeToString(got))
		}
		return nil
	}}
	pinned := obj.Generation(r.Attrs.Generation)
	fetch := func(ctx context.Context, off int64, buf []byte) error {
		pr, err := pinned.NewRangeReader(ctx, off, int64(len(buf)))
		if err != nil {
			return err
		}
		defer pr.Close()
		_, err = io.ReadFull(pr, buf)
		return err
	}
	return pread.New(ctx, r, r.Attrs.Size, fetch, check, ro)
}

func emptyReader(a *storage.ObjectAttrs) blob.Reader {
	return &reader{attrs: &blob.ReaderAttrs{Size: a.Size, ContentType: a.ContentType, ModTime: a.Updated, ETag: etagOf(a.Generation)}}
}

type reader struct {
	r     *storage.Reader // the first answer; nil for an empty read
	body  io.ReadCloser   // r, or the parallel read that starts with it
	attrs *blob.ReaderAttrs
}

func (r *reader) Read(p []byte) (int, error) {
	if r.body == nil {
		return 0, io.EOF
	}
	return r.body.Read(p)
}

// parallelReader is a full read that may go parallel: a reader that also
// writes its parts into an io.WriterAt as they come (blob.DownloadAt).
type parallelReader struct {
	*reader
	p *pread.Reader
}

func (r *parallelReader) WriteAtTo(w io.WriterAt) (int64, error) { return r.p.WriteAtTo(w) }

// WriteTo hands a parallel read's parts to w without another copy.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := r.body.(io.WriterTo); ok {
		return wt.WriteTo(w)
	}
	return io.Copy(w, struct{ io.Reader }{r})
}

func (r *reader) Close() error {
	if r.body == nil {
		return nil
	}
	return r.body.Close()
}

func (r *reader) Attrs() blob.ReaderAttrs {
	if r.attrs != nil {
		return *r.attrs
	}
	a := r.r.Attrs
	return blob.ReaderAttrs{Size: a.Size, ContentType: a.ContentType, ModTime: a.LastModified, ETag: etagOf(a.Generation)}
}

// As exposes **storage.Reader.
func (r *reader) As(target any) bool {
	if p, ok := target.(**storage.Reader); ok && r.r != nil {
		*p = r.r
		return true
	}
	return false
}
