// Package fileblob is a blob.Bucket on a local directory: the embedded
// default that blob.OpenFromEnv opens when CLOUD_PROVIDER is unset.
//
// # Layout
//
// Every key the key rules accept is stored and listed exactly as given, and
// nothing is ever written outside the root: all file operations go through
// an os.Root. A key is split at "/" into segments. Every segment but the last
// becomes a directory, the last a file, each named by the escaped segment:
// '%', control characters, the characters \ : * ? " < > |, a leading '.' and
// a trailing '+' are written as %XX (upper-case hex), and an empty segment
// as "%". Directory names end in '%', so the key "a" (a file) and the keys
// under "a/" (in the directory "a%") never clash: "reports/2026/q3.csv" is
// the file reports%/2026%/q3.csv. An escaped segment longer than 200 bytes
// is cut into pieces, each but the last a directory whose name ends in '+',
// so that no name passes the usual 255-byte limit. Names starting with "%!"
// belong to fileblob: temporary files ("%!tmp-*"), each object's metadata
// sidecar ("%!m" + the data file's name, JSON holding the content headers,
// user metadata, ETag and modification time) and the bucket's lock file
// ("%!lock" in the root). None of them is ever listed; neither is any file
// or directory whose name the escaping could not have produced.
//
// The layout assumes a case-sensitive file system (the default on Linux);
// on a case-insensitive one, keys that differ only in case share a file.
//
// # Writes and conditions
//
// A Writer streams into a temporary file in the object's directory, then on
// Close writes the sidecar and renames both into place, so nothing is
// visible before Close; Abort, a failed Write or a canceled context remove
// the temporary file. The commit (and Delete, and the target side of Copy)
// holds an exclusive flock(2) on the lock file, readers a shared one while
// they open the data and the sidecar, so IfNotExist and IfMatch are atomic
// across goroutines and across processes, and a reader never pairs new data
// with old metadata. Data is not fsynced: a power failure may lose writes
// that had returned. (On systems without flock, the lock is per process.)
//
// ETags are the quoted hex MD5 of the content, and Attributes.MD5 is that
// digest. List pages exactly as S3 does (byte order, delimiter, common
// prefixes), reading the tree under the deepest directory the prefix names.
// SignedURL returns blob.ErrNotImplemented.
//
// # URLs
//
// "file:///abs/path" opens that directory; "file://localhost/abs/path" is the
// same. The directory must exist unless the URL has "?create_dir=true"
// (which blob.OpenFromEnv sets for its default, ./anyblob-data).
package fileblob

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/pager"
)

// Scheme is the URL scheme fileblob registers: "file".
const Scheme = "file"

func init() {
	blob.Register(blob.Provider{Name: "file", Scheme: Scheme, Aliases: []string{"local"}, Open: openURL, EnvURL: envURL,
		CreateBucket: createURL, RemoveBucket: removeURL})
}

// envURL is the URL blob.OpenFromEnv opens for CLOUD_PROVIDER=file: the
// directory CLOUD_BUCKET (default blob.DefaultDir), made absolute and
// created when missing.
func envURL(dir string) (*url.URL, error) {
	if dir == "" {
		dir = blob.DefaultDir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, blob.Errorf(blob.ErrInvalidArgument, "CLOUD_BUCKET directory %q: %v", dir, err)
	}
	return &url.URL{Scheme: Scheme, Path: filepath.ToSlash(abs), RawQuery: "create_dir=true"}, nil
}

// ErrorDetail classifies the file system's errors; fileblob's own are
// *blob.Error already.
func (d *driver) ErrorDetail(err error) blob.ErrorDetail {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return blob.ErrorDetail{Kind: blob.ErrNotFound}
	case errors.Is(err, fs.ErrPermission):
		return blob.ErrorDetail{Kind: blob.ErrPermissionDenied}
	}
	return blob.ErrorDetail{}
}

// Options configures Open. nil means the zero value.
type Options struct {
	// CreateDir creates the directory (and its parents) when it does not
	// exist. Without it a missing directory is ErrNotFound.
	CreateDir bool
}

func openURL(_ context.Context, u *url.URL) (blob.Bucket, error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, blob.Errorf(blob.ErrInvalidArgument, "file URL host must be empty or localhost, got %q; use file:///absolute/path", u.Host)
	}
	if u.Path == "" {
		return nil, blob.Errorf(blob.ErrInvalidArgument, "file URL %q has no directory; use file:///absolute/path", u.String())
	}
	var opts Options
	for k, v := range u.Query() {
		switch k {
		case "create_dir":
			b, err := strconv.ParseBool(v[0])
			if err != nil || len(v) > 1 {
				return nil, blob.Errorf(blob.ErrInvalidArgument, "file URL parameter create_dir=%q is not a boolean", v[0])
			}
			opts.CreateDir = b
		default:
			return nil, blob.Errorf(blob.ErrInvalidArgument, "unknown file URL parameter %q (known: create_dir)", k)
		}
	}
	return Open(filepath.FromSlash(u.Path), &opts)
}

// createURL makes the directory a file URL names (its parent must exist);
// one that exists already is ErrPreconditionFailed.
func createURL(_ context.Context, u *url.URL) error {
	if u.Host != "" && u.Host != "localhost" || u.Path == "" {
		return blob.Errorf(blob.ErrInvalidArgument, "file URL %q does not name a directory; use file:///absolute/path", u.String())
	}
	dir := filepath.FromSlash(u.Path)
	if err := os.Mkdir(dir, 0o777); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return blob.Errorf(blob.ErrPreconditionFailed, "directory %s exists already", dir)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return blob.Errorf(blob.ErrNotFound, "the parent of %s does not exist", dir)
		}
		return &blob.Error{Kind: blob.KindOf(err), Err: err}
	}
	return nil
}

// removeURL removes the directory a file URL names, with the bucket's own
// files, if it holds no object; one that does is ErrPreconditionFailed.
func removeURL(ctx context.Context, u *url.URL) error {
	b, err := openURL(ctx, u)
	if err != nil {
		return err
	}
	page, err := b.List(ctx, &blob.ListOptions{PageSize: 1})
	b.Close()
	if err != nil {
		return err
	}
	dir := filepath.FromSlash(u.Path)
	if len(page.Objects) > 0 {
		return blob.Errorf(blob.ErrPreconditionFailed, "directory %s holds objects; delete them first", dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return &blob.Error{Kind: blob.KindOf(err), Err: err}
	}
	return nil
}

// Open returns a bucket on the directory dir, with opts (nil means the
// defaults). A missing directory is ErrNotFound unless opts.CreateDir is
// set; a path that is not a directory is ErrInvalidArgument. The bucket's
// name in errors is dir.
func Open(dir string, opts *Options) (blob.Bucket, error) {
	if opts == nil {
		opts = &Options{}
	}
	wrap := func(err error) error { return blob.OpenError(Scheme, dir, err) }
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && opts.CreateDir:
		if err := os.MkdirAll(dir, 0o777); err != nil { // less the umask, as any program's
			kind := blob.ErrInvalidArgument
			if errors.Is(err, fs.ErrPermission) {
				kind = blob.ErrPermissionDenied
			}
			return nil, wrap(blob.Errorf(kind, "cannot create the directory: %v", err))
		}
	case errors.Is(err, fs.ErrNotExist):
		return nil, wrap(blob.Errorf(blob.ErrNotFound, "directory %s does not exist (set create_dir=true to create it)", dir))
	case errors.Is(err, fs.ErrPermission):
		return nil, wrap(blob.Errorf(blob.ErrPermissionDenied, "cannot reach the directory: %v", err))
	case err != nil:
		// A file where a directory of the path should be, a name too long:
		// the path cannot be a bucket.
		what := "use"
		if opts.CreateDir {
			what = "create"
		}
		return nil, wrap(blob.Errorf(blob.ErrInvalidArgument, "cannot %s the directory: %v", what, err))
	case !st.IsDir():
		return nil, wrap(blob.Errorf(blob.ErrInvalidArgument, "%s is not a directory", dir))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, wrap(fsError(err))
	}
	return blob.NewBucket(Scheme, dir, &driver{root: root}), nil
}

type driver struct {
	root *os.Root
}

// meta is the sidecar's content.
type meta struct {
	Size               int64             `json:"size"`
	ETag               string            `json:"etag"`
	ModTime            time.Time         `json:"modTime"`
	ContentType        string            `json:"contentType,omitempty"`
	ContentEncoding    string            `json:"contentEncoding,omitempty"`
	ContentDisposition string            `json:"contentDisposition,omitempty"`
	ContentLanguage    string            `json:"contentLanguage,omitempty"`
	CacheControl       string            `json:"cacheControl,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
}

func (m *meta) attributes() *blob.Attributes {
	a := &blob.Attributes{
		Size: m.Size, ETag: m.ETag, ModTime: m.ModTime,
		ContentType: m.ContentType, ContentEncoding: m.ContentEncoding,
		ContentDisposition: m.ContentDisposition, ContentLanguage: m.ContentLanguage,
		CacheControl: m.CacheControl, Metadata: maps.Clone(m.Metadata),
	}
	if len(m.ETag) == 34 {
		if sum, err := hex.DecodeString(m.ETag[1:33]); err == nil {
			a.MD5 = sum
		}
	}
	return a
}

// fsError classifies a file-system error.
func fsError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return &blob.Error{Kind: blob.ErrNotFound, Err: err}
	case errors.Is(err, fs.ErrPermission):
		return &blob.Error{Kind: blob.ErrPermissionDenied, Err: err}
	}
	return err
}

func notFound() error { return blob.Errorf(blob.ErrNotFound, "no such object") }

// readMeta reads the sidecar of the data file at p (dir/file). A data file
// without a sidecar (put there by hand) gets metadata from its stat.
func (d *driver) readMeta(dir, file string, data fs.FileInfo) (*meta, error) {
	raw, err := d.root.ReadFile(path.Join(dir, sidecar(file)))
	if errors.Is(err, fs.ErrNotExist) {
		return &meta{
			Size: data.Size(), ModTime: data.ModTime().UTC(),
			ETag:        fmt.Sprintf(`"%x-%x"`, data.Size(), data.ModTime().UnixNano()),
			ContentType: "application/octet-stream",
		}, nil
	}
	if err != nil {
		return nil, fsError(err)
	}
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, blob.Errorf(blob.ErrInternal, "corrupt metadata sidecar %s: %v", path.Join(dir, sidecar(file)), err)
	}
	return &m, nil
}

// open opens key's data file and reads its metadata under a shared lock, so
// the two belong to the same version.
func (d *driver) open(key string) (*os.File, *meta, error) {
	dir, file := keyPath(key)
	l, err := lock(d.root, false)
	if err != nil {
		return nil, nil, err
	}
	defer l.unlock()
	f, err := d.root.Open(path.Join(dir, file))
	if err != nil {
		if isNotDirOrNotExist(err) {
			return nil, nil, notFound()
		}
		return nil, nil, fsError(err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, nil, fsError(err)
		}
		return nil, nil, notFound()
	}
	m, err := d.readMeta(dir, file, st)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, m, nil
}

func (d *driver) NewRangeReader(_ context.Context, key string, offset, length int64, opts *blob.ReaderOptions) (blob.Reader, error) {
	if err := blob.CallHook(opts.BeforeRead, blob.NoNative); err != nil {
		return nil, err
	}
	f, m, err := d.open(key)
	if err != nil {
		return nil, err
	}
	if opts.IfMatch != "" && opts.IfMatch != m.ETag {
		f.Close()
		return nil, blob.Errorf(blob.ErrPreconditionFailed, "ETag is %s, not %s", m.ETag, opts.IfMatch)
	}
	offset = min(offset, m.Size)
	n := m.Size - offset
	if length >= 0 && length < n {
		n = length
	}
	return &reader{
		f: f, r: io.NewSectionReader(f, offset, n),
		attrs: blob.ReaderAttrs{Size: m.Size, ContentType: m.ContentType, ModTime: m.ModTime, ETag: m.ETag},
	}, nil
}

type reader struct {
	f     *os.File
	r     *io.SectionReader
	attrs blob.ReaderAttrs
}

func (r *reader) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r *reader) Close() error               { return r.f.Close() }
func (r *reader) Attrs() blob.ReaderAttrs    { return r.attrs }

// As exposes the open data file as **os.File.
func (r *reader) As(target any) bool {
	if p, ok := target.(**os.File); ok {
		*p = r.f
		return true
	}
	return false
}

func (d *driver) Attributes(_ context.Context, key string) (*blob.Attributes, error) {
	f, m, err := d.open(key)
	if err != nil {
		return nil, err
	}
	f.Close()
	return m.attributes(), nil
}

// isNotDirOrNotExist reports an error that means "no such object": a
// missing file, or a path through something that is not a directory.
func isNotDirOrNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || isNotDir(err)
}

// createTemp creates a temporary file in dir (made if missing), retrying
// when a concurrent Delete removes the emptied directory in between.
func (d *driver) createTemp(dir string) (*os.File, string, error) {
	var err error
	for range 5 {
		if err = d.root.MkdirAll(dir, 0o777); err != nil { // less the umask
			return nil, "", fsError(err)
		}
		name := path.Join(dir, tempPrefix+randomSuffix())
		var f *os.File
		f, err = d.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666) // less the umask
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	return nil, "", fsError(err)
}

func (d *driver) NewWriter(_ context.Context, key string, opts *blob.WriterOptions) (blob.Writer, error) {
	if err := blob.CallHook(opts.BeforeWrite, blob.NoNative); err != nil {
		return nil, err
	}
	dir, file := keyPath(key)
	f, tmp, err := d.createTemp(dir)
	if err != nil {
		return nil, err
	}
	return &writer{d: d, dir: dir, file: file, f: f, tmp: tmp, opts: *opts, hash: md5.New()}, nil
}

type writer struct {
	d         *driver
	dir, file string
	f         *os.File
	tmp       string
	opts      blob.WriterOptions
	hash      hash.Hash
	size      int64
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.hash.Write(p[:n])
	w.size += int64(n)
	return n, fsError(err)
}

func (w *writer) Close() error {
	if err := w.f.Close(); err != nil {
		w.d.root.Remove(w.tmp)
		return fsError(err)
	}
	m := &meta{
		Size: w.size, ETag: `"` + hex.EncodeToString(w.hash.Sum(nil)) + `"`, ModTime: time.Now().UTC(),
		ContentType: w.opts.ContentType, ContentEncoding: w.opts.ContentEncoding,
		ContentDisposition: w.opts.ContentDisposition, ContentLanguage: w.opts.ContentLanguage,
		CacheControl: w.opts.CacheControl, Metadata: w.opts.Metadata,
	}
	if m.ContentType == "" {
		m.ContentType = "application/octet-stream"
	}
	return w.d.commit(w.dir, w.file, w.tmp, m, w.opts.IfNotExist, w.opts.IfMatch)
}

func (w *writer) Abort(error) error {
	w.f.Close()
	if err := w.d.root.Remove(w.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fsError(err)
	}
	return nil
}

// commit moves the temporary data file tmp into place as dir/file with
// metadata m, checking the preconditions under the exclusive lock. It
// removes tmp on failure.
func (d *driver) commit(dir, file, tmp string, m *meta, ifNotExist bool, ifMatch string) (err error) {
	defer func() {
		if err != nil {
			d.root.Remove(tmp)
		}
	}()
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	mf, mtmp, err := d.createTemp(dir)
	if err != nil {
		return err
	}
	_, werr := mf.Write(raw)
	if cerr := mf.Close(); werr == nil {
		werr = cerr
	}
	defer d.root.Remove(mtmp) // a no-op once renamed
	if werr != nil {
		return fsError(werr)
	}

	l, err := lock(d.root, true)
	if err != nil {
		return err
	}
	defer l.unlock()
	if ifNotExist || ifMatch != "" {
		if err := d.checkPrecondition(dir, file, ifNotExist, ifMatch); err != nil {
			return err
		}
	}
	if commitHook != nil {
		commitHook()
	}
	if err := d.root.Rename(mtmp, path.Join(dir, sidecar(file))); err != nil {
		return fsError(err)
	}
	if err := d.root.Rename(tmp, path.Join(dir, file)); err != nil {
		return fsError(err)
	}
	return nil
}

// commitHook, set only by tests, runs between the precondition check and
// the renames, to widen the window a missing lock would leave open.
var commitHook func()

// checkPrecondition runs under the exclusive lock.
func (d *driver) checkPrecondition(dir, file string, ifNotExist bool, ifMatch string) error {
	st, err := d.root.Stat(path.Join(dir, file))
	exists := err == nil && st.Mode().IsRegular()
	if err != nil && !isNotDirOrNotExist(err) {
		return fsError(err)
	}
	switch {
	case ifNotExist && exists:
		return blob.Errorf(blob.ErrPreconditionFailed, "object exists")
	case ifMatch != "" && !exists:
		return blob.Errorf(blob.ErrPreconditionFailed, "object does not exist, so it cannot match ETag %s", ifMatch)
	case ifMatch != "":
		m, err := d.readMeta(dir, file, st)
		if err != nil {
			return err
		}
		if m.ETag != ifMatch {
			return blob.Errorf(blob.ErrPreconditionFailed, "ETag is %s, not %s", m.ETag, ifMatch)
		}
	}
	return nil
}

func (d *driver) List(_ context.Context, opts *blob.ListOptions) (*blob.ListPage, error) {
	if err := blob.CallHook(opts.BeforeList, blob.NoNative); err != nil {
		return nil, err
	}
	if _, _, err := pager.After(opts.PageToken); err != nil {
		return nil, err
	}
	dir, keyPrefix := dirPrefix(opts.Prefix)
	found := map[string][2]string{} // key -> dir, file
	if err := d.walk(dir, keyPrefix, "", found); err != nil {
		return nil, err
	}
	keys := slices.Sorted(maps.Keys(found))
	return pager.Page(keys, opts, func(k string) (blob.ObjectInfo, bool) {
		loc := found[k]
		st, err := d.root.Stat(path.Join(loc[0], loc[1]))
		if err != nil || !st.Mode().IsRegular() {
			return blob.ObjectInfo{}, false
		}
		m, err := d.readMeta(loc[0], loc[1], st)
		if err != nil {
			return blob.ObjectInfo{}, false
		}
		return blob.ObjectInfo{Key: k, Size: m.Size, ModTime: m.ModTime, ETag: m.ETag}, true
	})
}

// walk adds to found every key stored under dir, which stands for the key
// prefix keyPrefix plus the escaped piece text pending.
func (d *driver) walk(dir, keyPrefix, pending string, found map[string][2]string) error {
	f, err := d.root.Open(dir)
	if err != nil {
		if isNotDirOrNotExist(err) {
			return nil
		}
		return fsError(err)
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return fsError(err)
	}
	for _, e := range entries {
		name := e.Name()
		if len(name) >= len(internal) && name[:len(internal)] == internal {
			continue
		}
		switch {
		case e.IsDir():
			switch name[len(name)-1] {
			case pieceMark:
				if err := d.walk(path.Join(dir, name), keyPrefix, pending+name[:len(name)-1], found); err != nil {
					return err
				}
			case dirMark:
				seg, ok := unescape(pending + name[:len(name)-1])
				if !ok {
					continue
				}
				if err := d.walk(path.Join(dir, name), keyPrefix+seg+"/", "", found); err != nil {
					return err
				}
			}
		case e.Type().IsRegular():
			seg, ok := unescape(pending + name)
			if !ok {
				continue
			}
			key := keyPrefix + seg
			if blob.ValidateKey(key) != nil {
				continue
			}
			if kd, kf := keyPath(key); kd != dir || kf != name {
				continue // not a name the layout would give this key
			}
			found[key] = [2]string{dir, name}
		}
	}
	return nil
}

func (d *driver) Delete(_ context.Context, key string) error {
	l, err := lock(d.root, true)
	if err != nil {
		return err
	}
	defer l.unlock()
	return d.remove(key)
}

// remove deletes key's data and sidecar and the directories that leaves
// empty. The caller holds the exclusive lock.
func (d *driver) remove(key string) error {
	dir, file := keyPath(key)
	if err := d.root.Remove(path.Join(dir, file)); err != nil {
		if isNotDirOrNotExist(err) {
			return nil
		}
		return fsError(err)
	}
	if err := d.root.Remove(path.Join(dir, sidecar(file))); err != nil && !isNotDirOrNotExist(err) {
		return fsError(err)
	}
	for dir != "." {
		if d.root.Remove(dir) != nil {
			break // not empty, or gone
		}
		dir = path.Dir(dir)
	}
	return nil
}

// DeleteKeys deletes every key under one hold of the lock.
func (d *driver) DeleteKeys(_ context.Context, keys []string) error {
	l, err := lock(d.root, true)
	if err != nil {
		return err
	}
	defer l.unlock()
	var first error
	for _, k := range keys {
		if err := d.remove(k); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (d *driver) Copy(_ context.Context, dstKey, srcKey string, opts *blob.CopyOptions) error {
	if err := blob.CallHook(opts.BeforeCopy, blob.NoNative); err != nil {
		return err
	}
	src, m, err := d.open(srcKey)
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return blob.Errorf(blob.ErrNotFound, "the source object does not exist")
		}
		return err
	}
	defer src.Close()
	dir, file := keyPath(dstKey)
	f, tmp, err := d.createTemp(dir)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, io.NewSectionReader(src, 0, m.Size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.root.Remove(tmp)
		return fsError(err)
	}
	c := *m
	c.ModTime = time.Now().UTC()
	if opts.Metadata != nil {
		c.Metadata = opts.Metadata
	}
	if opts.ContentType != "" {
		c.ContentType = opts.ContentType
	}
	return d.commit(dir, file, tmp, &c, opts.IfNotExist, "")
}

func (d *driver) SignedURL(context.Context, string, *blob.SignedURLOptions) (string, error) {
	return "", blob.Errorf(blob.ErrNotImplemented, "directory buckets cannot sign URLs")
}

func (d *driver) Close() error { return d.root.Close() }

// As exposes the bucket's directory as **os.Root.
func (d *driver) As(target any) bool {
	if p, ok := target.(**os.Root); ok {
		*p = d.root
		return true
	}
	return false
}
