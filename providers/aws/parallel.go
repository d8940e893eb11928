package aws

import (
	"context"
	"io"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/checksum"
	"github.com/anyblob/anyblob/internal/pread"
)

// Parallel reads are internal/pread's, the engine every driver shares: a
// full read of an object of two parts or more times its first MiB and,
// when one connection is the limit, fetches the rest as ranges pinned to
// the first answer's ETag, at most Options.ReadConcurrency parts of
// Options.ReadPartSize at once, and checks the whole stream against the
// object's full checksum (x-amz-checksum-*).

// Read defaults.
const (
	// DefaultReadPartSize is the size of the parts of a parallel read.
	DefaultReadPartSize = pread.DefaultPartSize
	// DefaultReadConcurrency is how many parts a read fetches at once.
	DefaultReadConcurrency = pread.DefaultConcurrency
)

// readOptions are the client's parallel-read settings, with a read's own
// bound (blob.ReaderOptions.Concurrency) when it sets one.
func (c *Client) readOptions(conc int) pread.Options {
	if conc <= 0 {
		conc = c.readConc
	}
	return pread.Options{PartSize: c.readPartSize, Concurrency: conc, Target: c.readTarget}
}

// parallelReader is a read that may go parallel, with the first answer's
// attributes.
type parallelReader struct {
	*pread.Reader
	attrs blob.ReaderAttrs
}

func (p *parallelReader) Attrs() blob.ReaderAttrs { return p.attrs }
func (p *parallelReader) As(any) bool             { return false }

// parallelize turns r, a full read's first answer, into a read that may go
// parallel once its probe has been timed; r keeps its own check for when
// it stays the one stream.
func (d *driver) parallelize(ctx context.Context, key string, r *reader, enc *blob.Encryption, conc int) *parallelReader {
	var check *pread.Check
	if r.crc != nil {
		alg, want := r.alg, r.want
		check = &pread.Check{Hash: checksum.New(alg), Algorithm: alg, Verify: func(sum []byte) error {
			if got := checksum.Base64(sum); got != want {
				return blob.Errorf(blob.ErrInternal, "s3: checksum mismatch: object %s is %s, read data has %s", alg, want, got)
			}
			return nil
		}}
	}
	etag := r.attrs.ETag
	fetch := func(ctx context.Context, off int64, buf []byte) error {
		return d.fetchPart(ctx, key, off, buf, etag, enc)
	}
	return &parallelReader{Reader: pread.New(ctx, r, r.attrs.Size, fetch, check, d.c.readOptions(conc)), attrs: r.attrs}
}

// fetchPart reads len(buf) bytes at off, pinned to etag, resuming as a
// single read does.
func (d *driver) fetchPart(ctx context.Context, key string, off int64, buf []byte, etag string, enc *blob.Encryption) error {
	n := int64(len(buf))
	resp, err := d.get(ctx, key, off, n, etag, false, nil, enc)
	if err != nil {
		return customerKeyError(err, enc != nil)
	}
	r := &reader{body: resp.Body, pos: off, left: n, ctxErr: ctx.Err,
		again: func(n int, cause error) error { return d.c.retry.Again(ctx, n, cause) },
		reopen: func(pos, n int64) (io.ReadCloser, error) {
			resp, err := d.get(ctx, key, pos, n, etag, false, nil, enc)
			if err != nil {
				return nil, err
			}
			return resp.Body, nil
		}}
	defer r.body.Close()
	_, err = io.ReadFull(r, buf)
	return err
}
