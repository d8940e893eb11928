package gcp

import (
	"context"
	"maps"

	"cloud.google.com/go/storage"

	"github.com/anyblob/anyblob/blob"
)

func (d *driver) NewWriter(ctx context.Context, key string, opts *blob.WriterOptions) (blob.Writer, error) {
	obj := d.bkt.Object(key)
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
	if err := blob.CallHook(opts.BeforeWrite, blob.NativeAs(w)); err != nil {
		cancel()
		return nil, err
	}
	return &writer{w: w, cancel: cancel}, nil
}

type writer struct {
	w      *storage.Writer
	cancel context.CancelFunc
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	return n, err
}

func (w *writer) Close() error {
	defer w.cancel()
	return w.w.Close()
}

// Abort cancels the upload: the object is never created.
func (w *writer) Abort(error) error {
	w.cancel()
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
