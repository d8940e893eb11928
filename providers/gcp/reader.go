package gcp

import (
	"context"
	"io"
	"net/http"

	"cloud.google.com/go/storage"

	"github.com/anyblob/anyblob/blob"
)

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
	return &reader{r: r}, nil
}

func emptyReader(a *storage.ObjectAttrs) blob.Reader {
	return &reader{attrs: &blob.ReaderAttrs{Size: a.Size, ContentType: a.ContentType, ModTime: a.Updated, ETag: etagOf(a.Generation)}}
}

type reader struct {
	r     *storage.Reader // nil for an empty read
	attrs *blob.ReaderAttrs
}

func (r *reader) Read(p []byte) (int, error) {
	if r.r == nil {
		return 0, io.EOF
	}
	return r.r.Read(p)
}

func (r *reader) Close() error {
	if r.r == nil {
		return nil
	}
	return r.r.Close()
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
