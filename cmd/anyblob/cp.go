package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/anyblob/anyblob/blob"
)

// cpOptions are cp's flags.
type cpOptions struct {
	contentType string
	ifNotExist  bool
}

func cpCmd(g *globals) *cobra.Command {
	var o cpOptions
	c := &cobra.Command{
		Use:   "cp [flags] SRC DST",
		Short: "Copy an object: local ↔ bucket, bucket ↔ bucket, cloud ↔ cloud",
		Long: `Copy one object or file. SRC and DST are each a bucket URL with a key
(s3://BUCKET/KEY?region=R, gs://, azblob://, mem://, file:///DIR/KEY), :KEY on
the default bucket, a local path, or - for standard input (SRC) or output
(DST); at least one is an object.

Two objects in the same bucket are copied by the server. Objects in different
buckets, on one cloud or two, are streamed from one to the other with the
source's content headers and metadata, never through a temporary file. A copy
that fails or is interrupted (Ctrl-C) leaves nothing at DST: an upload is
aborted, a download is written to a temporary file renamed into place when
complete (created with mode 0666 less the umask, with the folders it needs).

A DST ending in '/' (or an existing local directory) is a folder: SRC's last
name is added (cp a.csv :reports/ writes reports/a.csv; cp :reports/a.csv dl/
writes dl/a.csv). A SRC ending in '/' is a folder, which cp refuses: copying a
folder is a recursive copy, which cp does not do yet.`,
		Example: `  anyblob cp report.csv :reports/
  anyblob cp ':reports/q3.csv' dl/
  anyblob cp 's3://src-bucket/data.bin?region=eu-west-1' gs://dst-bucket/data.bin
  tar c dir | anyblob cp --content-type application/x-tar - azblob://backups/dir.tar`,
		Args: nArgs(2, 2, "a source and a destination"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := resolver{defaultBucket: g.bucket}
			src, err := r.cpArg(args[0])
			if err != nil {
				return err
			}
			dst, err := r.cpArg(args[1])
			if err != nil {
				return err
			}
			return withBuckets(g, func(bs *buckets) error { return copyOne(cmd, bs, src, dst, o) })
		},
	}
	c.Flags().StringVar(&o.contentType, "content-type", "", "Content-Type of the new object (default: the source object's, or the backend's choice for a file)")
	c.Flags().BoolVar(&o.ifNotExist, "if-not-exist", false, "fail (exit status 4) if the destination object exists; the check and the write are atomic")
	return c
}

// copyOne copies src to dst, one of which is an object.
func copyOne(cmd *cobra.Command, bs *buckets, src, dst address, o cpOptions) error {
	if src.kind != addrObject && dst.kind != addrObject {
		return usagef("cp: neither %q nor %q is an object; write objects as :KEY or a bucket URL (s3://BUCKET/KEY)", src.raw, dst.raw)
	}
	if src.folder {
		return usagef("cp: %s is a folder, not one object: copying a folder is a recursive copy (-r), which cp does not do yet; name one object", src.raw)
	}
	if dst.folder {
		var err error
		if dst, err = into(dst, src); err != nil {
			return err
		}
	}
	if dst.kind != addrObject && (o.ifNotExist || o.contentType != "") {
		return usagef("cp: --if-not-exist and --content-type apply to an object destination, not %q", dst.raw)
	}
	ctx := cmd.Context()
	switch {
	case src.kind == addrObject && dst.kind == addrObject:
		return copyObject(ctx, bs, src, dst, o)
	case dst.kind == addrObject:
		return upload(cmd, bs, src, dst, o)
	default:
		return download(cmd, bs, src, dst)
	}
}

// into returns the address in the folder dst that src is copied to: dst
// with src's last name added.
func into(dst, src address) (address, error) {
	var name string
	switch src.kind {
	case addrStdio:
		return address{}, usagef("cp: standard input has no name to add to the folder %s; name the destination (%sNAME)", dst.raw, dst.raw)
	case addrLocal:
		name = filepath.Base(src.path)
	case addrObject:
		name = path.Base(src.key)
	}
	if name == "." || name == ".." || name == "/" || name == string(filepath.Separator) {
		return address{}, usagef("cp: %s has no name to add to the folder %s; name the destination in full", src.raw, dst.raw)
	}
	dst.folder = false
	if dst.kind == addrObject {
		dst.key += name
	} else {
		dst.path = filepath.Join(dst.path, name)
	}
	return dst, nil
}

// copyObject copies between two objects: on the server in one bucket,
// streamed between two.
func copyObject(ctx context.Context, bs *buckets, src, dst address, o cpOptions) error {
	sb, err := bs.get(ctx, src)
	if err != nil {
		return err
	}
	db, err := bs.get(ctx, dst)
	if err != nil {
		return err
	}
	if bs.id(src) == bs.id(dst) {
		return sb.Copy(ctx, dst.key, src.key, &blob.CopyOptions{IfNotExist: o.ifNotExist, ContentType: o.contentType})
	}
	return stream(ctx, sb, src.key, db, dst.key, o)
}

// stream copies srcKey of sb to dstKey of db through memory, part by
// part, with the source's content headers and metadata, as a server-side
// Copy keeps them. The read is pinned to the version whose attributes
// were read. A failure on either side aborts the write: nothing appears
// at dstKey.
func stream(ctx context.Context, sb blob.Bucket, srcKey string, db blob.Bucket, dstKey string, o cpOptions) error {
	a, err := sb.Attributes(ctx, srcKey)
	if err != nil {
		return err
	}
	r, err := sb.NewReader(ctx, srcKey, &blob.ReaderOptions{IfMatch: a.ETag})
	if err != nil {
		return err
	}
	defer r.Close()
	opts := &blob.WriterOptions{
		ContentType:        a.ContentType,
		ContentEncoding:    a.ContentEncoding,
		ContentDisposition: a.ContentDisposition,
		ContentLanguage:    a.ContentLanguage,
		CacheControl:       a.CacheControl,
		Metadata:           a.Metadata,
		IfNotExist:         o.ifNotExist,
	}
	if o.contentType != "" {
		opts.ContentType = o.contentType
	}
	return blob.Upload(ctx, db, dstKey, r, opts)
}

// upload writes a local file or standard input to an object.
func upload(cmd *cobra.Command, bs *buckets, src, dst address, o cpOptions) error {
	var r io.Reader = ctxReader{cmd.Context(), cmd.InOrStdin()}
	if src.kind == addrLocal {
		f, err := os.Open(src.path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	db, err := bs.get(cmd.Context(), dst)
	if err != nil {
		return err
	}
	return blob.Upload(cmd.Context(), db, dst.key, r, &blob.WriterOptions{IfNotExist: o.ifNotExist, ContentType: o.contentType})
}

// ctxReader stops reading once ctx is done, so that an upload from a pipe
// interrupted by Ctrl-C ends at its next read rather than at the pipe's
// end.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// download writes an object to standard output or a local file.
func download(cmd *cobra.Command, bs *buckets, src, dst address) error {
	ctx := cmd.Context()
	sb, err := bs.get(ctx, src)
	if err != nil {
		return err
	}
	if dst.kind == addrStdio {
		return blob.Download(ctx, sb, src.key, cmd.OutOrStdout())
	}
	r, err := sb.NewReader(ctx, src.key, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	return writeFile(dst.path, r)
}

// writeFile writes r to the file path through a temporary file in the
// same folder, renamed into place once r is read to the end: a failure
// leaves no file, partial or temporary. The folders path needs are
// created. The file has mode 0666 less the umask, as any program's.
func writeFile(path string, r io.Reader) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	tmp, err := createTemp(dir)
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// createTemp creates a new hidden file in dir with mode 0666 less the
// umask (os.CreateTemp's 0600 would be the download's mode after the
// rename).
func createTemp(dir string) (*os.File, error) {
	for {
		name := filepath.Join(dir, ".anyblob-"+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}
