// Package memblob is an in-memory blob.Bucket, for tests and caches.
//
// Everything lives in the process's memory and is lost when the process
// ends. A bucket is safe for concurrent use, and conditional writes
// (IfNotExist, IfMatch) are atomic: the check and the commit happen under one
// lock, so of N writers racing with IfNotExist on one key exactly one wins.
// ETags are the quoted hex MD5 of the content, as S3 gives for single-part
// uploads, and Attributes.MD5 is that digest. SignedURL returns
// blob.ErrNotImplemented: there is no server to sign for.
//
// URLs: "mem://" opens a new, empty bucket; "mem://name" opens the bucket of
// that name shared by the whole process, created empty on first use, so two
// parts of a program (or a test and the code it tests) can meet in it. Close
// on a named bucket closes that handle only; the data stays for the next
// OpenBucket of the same name.
package memblob

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/checksum"
	"github.com/anyblob/anyblob/internal/pager"
)

// Scheme is the URL scheme memblob registers: "mem".
const Scheme = "mem"

func init() {
	blob.Register(blob.Provider{Name: "mem", Scheme: Scheme, Open: openURL, EnvURL: envURL})
}

// envURL is the URL blob.OpenFromEnv opens for CLOUD_PROVIDER=mem: the
// process-wide bucket CLOUD_BUCKET, "default" when unset.
func envURL(name string) (*url.URL, error) {
	if name == "" {
		name = "default"
	}
	return &url.URL{Scheme: Scheme, Host: name}, nil
}

// ErrorDetail: memblob's errors are all *blob.Error already.
func (d *driver) ErrorDetail(error) blob.ErrorDetail { return blob.ErrorDetail{} }

var (
	namedMu sync.Mutex
	named   = map[string]*store{}
)

func openURL(_ context.Context, u *url.URL) (blob.Bucket, error) {
	if len(u.Query()) > 0 {
		return nil, blob.Errorf(blob.ErrInvalidArgument, "mem URLs take no parameters, got %q", u.RawQuery)
	}
	name := u.Host + u.Path
	if name == "" {
		return New(""), nil
	}
	namedMu.Lock()
	s, ok := named[name]
	if !ok {
		s = newStore()
		named[name] = s
	}
	namedMu.Unlock()
	return blob.NewBucket(Scheme, name, &driver{s: s}), nil
}

// New returns a new, empty in-memory bucket. name is used in errors and
// String only; two buckets made by New never share data.
func New(name string) blob.Bucket {
	return blob.NewBucket(Scheme, name, &driver{s: newStore()})
}

// object is one stored version; it is never modified once stored.
type object struct {
	data    []byte
	attrs   blob.Attributes // Metadata owned by the object
	modTime time.Time
}

type store struct {
	mu      sync.RWMutex
	objects map[string]*object
}

func newStore() *store { return &store{objects: map[string]*object{}} }

type driver struct{ s *store }

func (d *driver) get(key string) (*object, error) {
	d.s.mu.RLock()
	o, ok := d.s.objects[key]
	d.s.mu.RUnlock()
	if !ok {
		return nil, blob.Errorf(blob.ErrNotFound, "no such object")
	}
	return o, nil
}

func (d *driver) NewRangeReader(_ context.Context, key string, offset, length int64, opts *blob.ReaderOptions) (blob.Reader, error) {
	if err := blob.CallHook(opts.BeforeRead, blob.NoNative); err != nil {
		return nil, err
	}
	o, err := d.get(key)
	if err != nil {
		return nil, err
	}
	if opts.IfMatch != "" && opts.IfMatch != o.attrs.ETag {
		return nil, blob.Errorf(blob.ErrPreconditionFailed, "ETag is %s, not %s", o.attrs.ETag, opts.IfMatch)
	}
	size := int64(len(o.data))
	start := min(offset, size)
	end := size
	if length >= 0 && start+length < size {
		end = start + length
	}
	return &reader{
		r: bytes.NewReader(o.data[start:end]),
		attrs: blob.ReaderAttrs{
			Size: size, ContentType: o.attrs.ContentType, ModTime: o.attrs.ModTime, ETag: o.attrs.ETag,
		},
	}, nil
}

type reader struct {
	r     *bytes.Reader
	attrs blob.ReaderAttrs
}

func (r *reader) Read(p []byte) (int, error)         { return r.r.Read(p) }
func (r *reader) WriteTo(w io.Writer) (int64, error) { return r.r.WriteTo(w) }
func (r *reader) Close() error                       { return nil }
func (r *reader) Attrs() blob.ReaderAttrs            { return r.attrs }

func (d *driver) NewWriter(ctx context.Context, key string, opts *blob.WriterOptions) (blob.Writer, error) {
	if err := blob.CallHook(opts.BeforeWrite, blob.NoNative); err != nil {
		return nil, err
	}
	return &writer{ctx: ctx, d: d, key: key, opts: *opts}, nil
}

type writer struct {
	ctx  context.Context // the write's context, checked at commit
	d    *driver
	key  string
	opts blob.WriterOptions
	buf  bytes.Buffer
}

func (w *writer) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (w *writer) Close() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	data := bytes.Clone(w.buf.Bytes())
	w.buf = bytes.Buffer{}
	sum := md5.Sum(data)
	now := time.Now().UTC()
	o := &object{data: data, modTime: now, attrs: blob.Attributes{
		Size:               int64(len(data)),
		ContentType:        w.opts.ContentType,
		ContentEncoding:    w.opts.ContentEncoding,
		ContentDisposition: w.opts.ContentDisposition,
		ContentLanguage:    w.opts.ContentLanguage,
		CacheControl:       w.opts.CacheControl,
		Metadata:           maps.Clone(w.opts.Metadata),
		ModTime:            now,
		ETag:               `"` + hex.EncodeToString(sum[:]) + `"`,
		MD5:                sum[:],
		StorageClass:       w.opts.StorageClass,
		Tags:               cloneTags(w.opts.Tags),
		Checksums:          map[blob.ChecksumAlgorithm][]byte{blob.ChecksumMD5: sum[:]},
	}}
	if alg := w.opts.Checksum; alg != "" && alg != blob.ChecksumMD5 {
		o.attrs.Checksums[alg] = checksum.Sum(alg, data)
	}
	if o.attrs.ContentType == "" {
		o.attrs.ContentType = "application/octet-stream"
	}
	s := w.d.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := checkPrecondition(s.objects[w.key], w.opts.IfNotExist, w.opts.IfMatch); err != nil {
		return err
	}
	s.objects[w.key] = o
	return nil
}

// checkPrecondition applies IfNotExist / IfMatch to cur, the current object
// (nil when absent). The caller holds the store's lock.
func checkPrecondition(cur *object, ifNotExist bool, ifMatch string) error {
	switch {
	case ifNotExist && cur != nil:
		return blob.Errorf(blob.ErrPreconditionFailed, "object exists")
	case ifMatch != "" && cur == nil:
		return blob.Errorf(blob.ErrPreconditionFailed, "object does not exist, so it cannot match ETag %s", ifMatch)
	case ifMatch != "" && cur.attrs.ETag != ifMatch:
		return blob.Errorf(blob.ErrPreconditionFailed, "ETag is %s, not %s", cur.attrs.ETag, ifMatch)
	}
	return nil
}

func (w *writer) Abort(error) error {
	w.buf = bytes.Buffer{}
	return nil
}

func (d *driver) Attributes(_ context.Context, key string) (*blob.Attributes, error) {
	o, err := d.get(key)
	if err != nil {
		return nil, err
	}
	a := o.attrs
	a.Metadata = maps.Clone(o.attrs.Metadata)
	a.MD5 = bytes.Clone(o.attrs.MD5)
	a.Tags = cloneTags(o.attrs.Tags)
	a.Checksums = maps.Clone(o.attrs.Checksums)
	return &a, nil
}

// cloneTags copies tags; none is nil.
func cloneTags(tags map[string]string) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	return maps.Clone(tags)
}

// List pages exactly as S3's ListObjectsV2 does: keys in byte order,
// PageSize counting objects and common prefixes together. The page token is
// opaque (it records the last key or prefix returned), so listing goes on
// correctly after the objects of earlier pages are deleted.
func (d *driver) List(_ context.Context, opts *blob.ListOptions) (*blob.ListPage, error) {
	if err := blob.CallHook(opts.BeforeList, blob.NoNative); err != nil {
		return nil, err
	}
	if _, _, err := pager.After(opts.PageToken); err != nil {
		return nil, err
	}
	d.s.mu.RLock()
	objs := make(map[string]*object)
	for k, o := range d.s.objects {
		if strings.HasPrefix(k, opts.Prefix) {
			objs[k] = o
		}
	}
	d.s.mu.RUnlock()
	keys := slices.Sorted(maps.Keys(objs))
	return pager.Page(keys, opts, func(k string) (blob.ObjectInfo, bool) {
		o := objs[k]
		return blob.ObjectInfo{Key: k, Size: o.attrs.Size, ModTime: o.attrs.ModTime, ETag: o.attrs.ETag}, true
	})
}

func (d *driver) Delete(_ context.Context, key string) error {
	d.s.mu.Lock()
	delete(d.s.objects, key)
	d.s.mu.Unlock()
	return nil
}

// DeleteKeys deletes every key under one lock.
func (d *driver) DeleteKeys(_ context.Context, keys []string) error {
	d.s.mu.Lock()
	for _, k := range keys {
		delete(d.s.objects, k)
	}
	d.s.mu.Unlock()
	return nil
}

func (d *driver) Copy(_ context.Context, dstKey, srcKey string, opts *blob.CopyOptions) error {
	if err := blob.CallHook(opts.BeforeCopy, blob.NoNative); err != nil {
		return err
	}
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	src, ok := d.s.objects[srcKey]
	if !ok {
		return blob.Errorf(blob.ErrNotFound, "the source object does not exist")
	}
	if err := checkPrecondition(d.s.objects[dstKey], opts.IfNotExist, ""); err != nil {
		return err
	}
	now := time.Now().UTC()
	c := &object{data: src.data, modTime: now, attrs: src.attrs}
	c.attrs.ModTime = now
	if opts.Metadata != nil {
		c.attrs.Metadata = maps.Clone(opts.Metadata)
	}
	if opts.StorageClass != "" {
		c.attrs.StorageClass = opts.StorageClass
	}
	if opts.ContentType != "" {
		c.attrs.ContentType = opts.ContentType
	}
	d.s.objects[dstKey] = c
	return nil
}

func (d *driver) SignedURL(context.Context, string, *blob.SignedURLOptions) (string, error) {
	return "", blob.Errorf(blob.ErrNotImplemented, "memory buckets cannot sign URLs")
}

func (d *driver) Close() error { return nil }
