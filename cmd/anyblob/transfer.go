package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"mime"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anyblob/anyblob/blob"
)

// What a job does.
type op string

const (
	opUpload   op = "upload"   // a local file or standard input to an object
	opDownload op = "download" // an object to a local file or standard output
	opCopy     op = "copy"     // an object to an object
	opDelete   op = "delete"   // an object or a local file
)

// job is one transfer of a copy, a sync or a move.
type job struct {
	op       op
	src, dst address // dst only, for a delete
	size     int64   // -1 when unknown
	// check: compare the two objects' MD5 first, and copy only when they
	// differ (sync between buckets, when size and ETag do not tell).
	check bool
	// move: delete src once it is copied.
	move bool
}

// kindOf is the job that copies src to dst.
func kindOf(src, dst address) op {
	switch {
	case src.kind == addrObject && dst.kind == addrObject:
		return opCopy
	case dst.kind == addrObject:
		return opUpload
	}
	return opDownload
}

// writeOptions are the flags that set what a write stores.
type writeOptions struct {
	contentType        string
	cacheControl       string
	contentDisposition string
	metadata           map[string]string // nil: none given
	ifNotExist         bool              // fail when the destination exists
	noClobber          bool              // skip when the destination exists
}

// xfer runs jobs, several at once, reporting each.
type xfer struct {
	bs     *buckets
	w      writeOptions
	jobs   int  // -j: files at once
	dryRun bool // print the jobs, run none
	rep    *reporter
	stdin  io.Reader
	stdout io.Writer
	// budget holds one token per part that may be in flight across every
	// file of a transfer of several (nil for one file, which takes the
	// backend's own concurrency): jobs tokens, so that memory stays about
	// jobs × part size however the files are sized. Each file takes one,
	// and a large one as many more as are free, up to one per part.
	budget chan struct{}
	taking sync.Mutex // one job takes its share at a time
}

// budgetPart is the size of a budget token's part: the largest default
// part size of the backends (8 MiB writes on S3 and Azure; reads go in
// 4 MiB parts, so they hold at most half).
const budgetPart = 8 << 20

// parts takes j's share of the budget: one token, waiting for it, then as
// many more as are free, up to one per budgetPart of j. It returns the
// parts j may have in flight (0: no budget, the backend's choice) and the
// function that gives them back.
func (x *xfer) parts(ctx context.Context, j job) (int, func(), error) {
	if x.budget == nil || j.op == opDelete {
		return 0, func() {}, nil
	}
	// A job takes its whole share before the next takes any: a large
	// file is not left one part by small ones taking theirs meanwhile.
	x.taking.Lock()
	defer x.taking.Unlock()
	select {
	case <-x.budget:
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
	n := 1
	want := 1
	if j.size > budgetPart {
		want = int(min((j.size+budgetPart-1)/budgetPart, int64(cap(x.budget))))
	}
take:
	for n < want {
		select {
		case <-x.budget:
			n++
		default:
			break take
		}
	}
	return n, func() {
		for range n {
			x.budget <- struct{}{}
		}
	}, nil
}

// partsKey carries a job's parts (xfer.parts) to the reads and writes it
// makes.
type partsKey struct{}

// partsOf is the parts a job's reads and writes may have in flight: 0
// means the backend's choice.
func partsOf(ctx context.Context) int {
	n, _ := ctx.Value(partsKey{}).(int)
	return n
}

// run runs the jobs, x.jobs at a time, and waits for every one to end.
// The first failure cancels the others, whose writes abort: nothing
// partial is left, and the error names the job. Canceling ctx (Ctrl-C)
// does the same. One job's error is returned as it is.
func (x *xfer) run(ctx context.Context, jobs []job) error {
	if len(jobs) == 0 {
		return nil
	}
	var total int64
	for _, j := range jobs {
		if j.size < 0 || total < 0 {
			total = -1
		} else if j.op != opDelete {
			total += j.size
		}
	}
	x.rep.begin(len(jobs), total)
	defer x.rep.end()
	if len(jobs) == 1 {
		return x.do(ctx, jobs[0])
	}
	if x.jobs > 1 {
		x.budget = make(chan struct{}, x.jobs)
		for range x.jobs {
			x.budget <- struct{}{}
		}
		// The largest first, so that they take their parts while the
		// budget is free and no small file's tail waits on them.
		jobs = slices.Clone(jobs)
		slices.SortStableFunc(jobs, func(a, b job) int {
			switch {
			case a.size > b.size:
				return -1
			case a.size < b.size:
				return 1
			}
			return 0
		})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		done  atomic.Int64
		wg    sync.WaitGroup
	)
	ch := make(chan job)
	for range min(max(x.jobs, 1), len(jobs)) {
		wg.Go(func() {
			for j := range ch {
				if err := x.do(ctx, j); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("%s: %w", describe(j), err)
					}
					mu.Unlock()
					cancel()
					continue
				}
				done.Add(1)
			}
		})
	}
feed:
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if first != nil {
		return fmt.Errorf("%w (%d of %d done, the rest stopped)", first, done.Load(), len(jobs))
	}
	if err := ctx.Err(); err != nil { // canceled before a job saw it
		return fmt.Errorf("canceled (%d of %d done): %w", done.Load(), len(jobs), err)
	}
	return nil
}

// describe names a job as its line does: upload: SRC to DST.
func describe(j job) string {
	verb := string(j.op)
	if j.move {
		verb = "move"
	}
	if j.op == opDelete {
		return verb + ": " + display(j.dst)
	}
	return verb + ": " + display(j.src) + " to " + display(j.dst)
}

// do runs one job, and reports it.
func (x *xfer) do(ctx context.Context, j job) error {
	if j.check {
		same, err := x.sameMD5(ctx, j.src, j.dst)
		if err != nil || same {
			return err
		}
	}
	if x.dryRun {
		x.rep.line("(dryrun) " + describe(j))
		return nil
	}
	n, release, err := x.parts(ctx, j)
	if err != nil {
		return err
	}
	defer release()
	ctx = context.WithValue(ctx, partsKey{}, n)
	switch j.op {
	case opDelete:
		err = x.remove(ctx, j.dst)
	case opCopy:
		err = x.copyObject(ctx, j.src, j.dst, j.size)
	case opUpload:
		err = x.upload(ctx, j.src, j.dst)
	case opDownload:
		err = x.download(ctx, j.src, j.dst)
	}
	if x.w.noClobber && errors.Is(err, errExists) || x.w.noClobber && j.op != opDownload && errors.Is(err, blob.ErrPreconditionFailed) {
		x.rep.line("skip: " + display(j.dst) + " exists")
		x.rep.skip(j.size)
		return nil
	}
	if err == nil && j.move {
		err = x.remove(ctx, j.src)
	}
	if err != nil {
		return err
	}
	x.rep.done(describe(j), j.dst.kind == addrStdio)
	return nil
}

// errExists: a download with -n found the file there.
var errExists = errors.New("the file exists")

// remove deletes an object or a local file.
func (x *xfer) remove(ctx context.Context, a address) error {
	if a.kind == addrLocal {
		return os.Remove(a.path)
	}
	b, err := x.bs.get(ctx, a)
	if err != nil {
		return err
	}
	return b.Delete(ctx, a.key)
}

// sameMD5 reports whether two objects have the same MD5, both known.
// When either is unknown (an S3 multipart upload), the source is taken
// as changed when it is newer than the destination.
func (x *xfer) sameMD5(ctx context.Context, src, dst address) (bool, error) {
	sb, err := x.bs.get(ctx, src)
	if err != nil {
		return false, err
	}
	db, err := x.bs.get(ctx, dst)
	if err != nil {
		return false, err
	}
	sa, err := sb.Attributes(ctx, src.key)
	if err != nil {
		return false, err
	}
	da, err := db.Attributes(ctx, dst.key)
	if err != nil {
		return false, err
	}
	if sa.MD5 != nil && da.MD5 != nil {
		return sa.Size == da.Size && bytes.Equal(sa.MD5, da.MD5), nil
	}
	return sa.Size == da.Size && !newer(sa.ModTime, da.ModTime), nil
}

// copyObject copies between two objects: on the server in one bucket,
// streamed between two (or when a flag sets a header a server-side copy
// cannot).
func (x *xfer) copyObject(ctx context.Context, src, dst address, size int64) error {
	sb, err := x.bs.get(ctx, src)
	if err != nil {
		return err
	}
	db, err := x.bs.get(ctx, dst)
	if err != nil {
		return err
	}
	if x.bs.id(src) == x.bs.id(dst) && x.w.cacheControl == "" && x.w.contentDisposition == "" {
		err := sb.Copy(ctx, dst.key, src.key, &blob.CopyOptions{
			IfNotExist: x.w.ifNotExist || x.w.noClobber, ContentType: x.w.contentType, Metadata: x.w.metadata,
		})
		if err == nil && size > 0 {
			x.rep.add(size)
		}
		return err
	}
	return x.stream(ctx, sb, src.key, db, dst.key)
}

// stream copies srcKey of sb to dstKey of db through memory, part by
// part, with the source's content headers and metadata, as a server-side
// Copy keeps them (the flags replace them). The read is pinned to the
// version whose attributes were read. A failure on either side aborts the
// write: nothing appears at dstKey.
func (x *xfer) stream(ctx context.Context, sb blob.Bucket, srcKey string, db blob.Bucket, dstKey string) error {
	a, err := sb.Attributes(ctx, srcKey)
	if err != nil {
		return err
	}
	r, err := sb.NewReader(ctx, srcKey, &blob.ReaderOptions{IfMatch: a.ETag, Concurrency: partsOf(ctx)})
	if err != nil {
		return err
	}
	defer r.Close()
	opts := x.writerOptions(ctx, a.ContentType)
	opts.ContentEncoding, opts.ContentLanguage = a.ContentEncoding, a.ContentLanguage
	opts.CacheControl = cmp(x.w.cacheControl, a.CacheControl)
	opts.ContentDisposition = cmp(x.w.contentDisposition, a.ContentDisposition)
	if x.w.metadata == nil {
		opts.Metadata = a.Metadata
	}
	return blob.Upload(ctx, db, dstKey, x.rep.reader(r), opts)
}

// cmp is the first of a and b that is not "".
func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// writerOptions are the options of a write whose content type, without
// --content-type, is contentType, with the parts its job may have in
// flight.
func (x *xfer) writerOptions(ctx context.Context, contentType string) *blob.WriterOptions {
	return &blob.WriterOptions{
		ContentType:        cmp(x.w.contentType, contentType),
		CacheControl:       x.w.cacheControl,
		ContentDisposition: x.w.contentDisposition,
		Metadata:           x.w.metadata,
		IfNotExist:         x.w.ifNotExist || x.w.noClobber,
		Concurrency:        partsOf(ctx),
	}
}

// upload writes a local file or standard input to an object. A file's
// content type is its extension's (mime.TypeByExtension) unless
// --content-type says otherwise.
func (x *xfer) upload(ctx context.Context, src, dst address) error {
	var r io.Reader = ctxReader{ctx, x.stdin}
	contentType := ""
	if src.kind == addrLocal {
		f, err := os.Open(src.path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = x.rep.file(f)
		contentType = mime.TypeByExtension(path.Ext(filepath.ToSlash(src.path)))
	} else {
		r = x.rep.reader(r)
	}
	db, err := x.bs.get(ctx, dst)
	if err != nil {
		return err
	}
	return blob.Upload(ctx, db, dst.key, r, x.writerOptions(ctx, contentType))
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

// download writes an object to standard output or a local file, whose
// modification time becomes the object's (so that sync finds it
// unchanged). With -n an existing file is kept.
func (x *xfer) download(ctx context.Context, src, dst address) error {
	sb, err := x.bs.get(ctx, src)
	if err != nil {
		return err
	}
	if dst.kind == addrStdio {
		return blob.Download(ctx, sb, src.key, x.rep.writer(x.stdout))
	}
	if x.w.noClobber {
		if _, err := os.Lstat(dst.path); err == nil {
			return errExists
		}
	}
	r, err := sb.NewReader(ctx, src.key, &blob.ReaderOptions{Concurrency: partsOf(ctx)})
	if err != nil {
		return err
	}
	defer r.Close()
	fill := func(f *os.File) error {
		// Each part of a parallel read goes where it belongs as it
		// arrives (blob.DownloadAt's way), counted as it is written.
		if wa, ok := r.(blob.WriterAtTo); ok {
			_, err := wa.WriteAtTo(x.rep.at(f))
			return err
		}
		_, err := io.Copy(f, x.rep.reader(r))
		return err
	}
	return writeFile(dst.path, fill, r.Attrs().ModTime, x.w.noClobber)
}

// writeFile writes the file path through a temporary file in the same
// folder, which fill fills, renamed into place once fill succeeded: a failure
// leaves no file, partial or temporary. The folders path needs are
// created. The file has mode 0666 less the umask, as any program's, and
// the modification time modTime when it is not zero. With noClobber an
// existing file is kept (errExists): the temporary file is linked, not
// renamed, into place.
func writeFile(path string, fill func(*os.File) error, modTime time.Time, noClobber bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	tmp, err := createTemp(dir)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a rename, there is none
	err = fill(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && !modTime.IsZero() {
		err = os.Chtimes(tmp.Name(), modTime, modTime)
	}
	switch {
	case err != nil:
		return err
	case noClobber:
		if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
			return errExists
		} else if err != nil {
			return err
		}
		return nil
	}
	return os.Rename(tmp.Name(), path)
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

// parseMetadata turns --metadata k=v flags into a map (nil for none).
func parseMetadata(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--metadata %q: write KEY=VALUE", kv)
		}
		m[k] = v
	}
	return m, nil
}
