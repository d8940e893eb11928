// Package fileblob is a blob.Bucket on a local directory: the embedded
// default that blob.OpenFromEnv opens when CLOUD_PROVIDER is unset.
//
// # Layout
//
// A key is its own path under the directory: "reports/2026/q3.csv" is the
// plain file reports/2026/q3.csv, which any other program reads and writes
// as usual, and an existing tree is listed and read as it is: every
// regular file whose path is a valid key is an object (symbolic links,
// named pipes and other special files are not). Nothing is ever written
// outside the directory: every file operation goes through an os.Root.
//
// Everything that is not an object's data lives in one hidden folder,
// ".anyblob" in the root, which List never shows: the lock, temporary
// files, each object's metadata (content headers, user metadata, ETag) and
// the keys no path can hold as they are. A key goes there, in the escaped
// form described below, when
//   - a segment is empty ("a//b", "/x", "dir/"), "." or "..", or longer
//     than 255 bytes, or is a name the platform refuses (on Windows: the
//     characters < > : " \ | ? *, control characters, a trailing dot or
//     space, device names such as CON or NUL), or the first segment is
//     ".anyblob" in any case;
//   - or something stands in its way when it is written: a file where one
//     of its folders must be (writing "a/b" while the object "a" exists) or
//     a folder where its file must be (writing "a" while "a/b" exists).
//
// That is the one rule, and it is reversible: List shows both trees as one,
// every key exactly as it was written, and reads look at the key's own
// path first. A key written into the hidden folder because its path was
// taken moves to its own path on a later write once the path is free.
// Every other name, dot files and names with '%' or spaces included, is
// untouched.
//
// A file without metadata in the hidden folder (put there by another
// program), or one changed by another program since it was written here
// (its size or modification time differ from the ones recorded), has the
// attributes its stat gives: its size, its modification time, an ETag made
// of the two and the content type its extension gives
// (application/octet-stream when none). A folder emptied by a Delete is
// removed, as an object store has no empty folders.
//
// The layout assumes a case-sensitive file system (the default on Linux);
// on a case-insensitive one, keys that differ only in case share a file,
// and a file system that changes the Unicode normalization of names
// (HFS+) lists such keys in its own form. Temporary files are renamed into
// place, so a folder of the bucket on another file system (a mount point
// inside the directory) cannot be written.
//
// # The escaped layout
//
// Releases before the natural layout stored every key escaped, and that
// layout is still read and written: Options.Layout (URL parameter
// "layout=escaped") chooses it, and a directory holding its lock file
// ("%!lock") and no ".anyblob" folder is opened in it by default. A key is
// split at "/" into segments. Every segment but the last becomes a
// directory, the last a file, each named by the escaped segment: '%',
// control characters, the characters \ : * ? " < > |, a leading '.' and a
// trailing '+' are written as %XX (upper-case hex), and an empty segment as
// "%". Directory names end in '%', so the key "a" (a file) and the keys
// under "a/" (in the directory "a%") never clash: "reports/2026/q3.csv" is
// the file reports%/2026%/q3.csv. An escaped segment longer than 200 bytes
// is cut into pieces, each but the last a directory whose name ends in '+',
// so that no name passes the usual 255-byte limit. Names starting with
// "%!" belong to fileblob: temporary files ("%!tmp-*"), each object's
// metadata ("%!m" + the data file's name) and the lock ("%!lock" in the
// root). None of them is ever listed; neither is any file or directory
// whose name the escaping could not have produced. To move such a
// directory to the natural layout, copy every object into a new directory.
//
// # Writes and conditions
//
// A Writer streams into a temporary file, then on Close writes the
// metadata and renames both into place, so nothing is visible before
// Close; Abort, a failed Write or a canceled context remove the temporary
// file. The commit (and Delete, and the target side of Copy) holds an
// exclusive flock(2) on the lock file, readers a shared one while they
// open the data and the metadata, so IfNotExist and IfMatch are atomic
// across goroutines and across processes, and a reader never pairs new
// data with old metadata. Only writes create the lock file, and a read
// takes no lock where there is none or it may not be opened: a directory
// the user may only read is listed and read without a trace. Files and
// folders are created with mode 0666 and 0777 less the process umask, as
// any program's. Data is not fsynced: a power failure may lose writes that
// had returned. (On systems without flock, the lock is per process.)
//
// ETags of objects written here are the quoted hex MD5 of the content, and
// Attributes.MD5 is that digest. List pages exactly as S3 does (byte order,
// delimiter, common prefixes), reading the tree under the deepest
// directory the prefix names. SignedURL returns blob.ErrNotImplemented.
//
// # URLs
//
// "file:///abs/path" opens that directory; "file://localhost/abs/path" is the
// same. The directory must exist unless the URL has "?create_dir=true"
// (which blob.OpenFromEnv sets for its default, ./anyblob-data).
// "layout=natural" or "layout=escaped" chooses the layout instead of
// detecting it.
package fileblob

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"mime"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/checksum"
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
	// Layout is how keys map to files (see the package documentation).
	// The zero value detects it: the escaped layout for a directory that
	// has the escaped layout's lock file ("%!lock") and no ".anyblob"
	// folder, else the natural one.
	Layout Layout
}

// Layout names a way of mapping keys to files.
type Layout string

const (
	// LayoutNatural stores each key as the file of the same path.
	LayoutNatural Layout = "natural"
	// LayoutEscaped stores each key under an escaped name, as releases
	// before the natural layout did.
	LayoutEscaped Layout = "escaped"
)

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
		case "layout":
			opts.Layout = Layout(v[0])
			if len(v) > 1 || (opts.Layout != LayoutNatural && opts.Layout != LayoutEscaped) {
				return nil, blob.Errorf(blob.ErrInvalidArgument, "file URL parameter layout=%q is not natural or escaped", v[0])
			}
		default:
			return nil, blob.Errorf(blob.ErrInvalidArgument, "unknown file URL parameter %q (known: create_dir, layout)", k)
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
// set; a path that is not a directory, or an unknown opts.Layout, is
// ErrInvalidArgument. The bucket's name in errors is dir.
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
	d := &driver{root: root}
	switch opts.Layout {
	case LayoutNatural:
		d.natural = true
	case LayoutEscaped:
	case "":
		_, hidden := root.Lstat(hiddenDir)
		_, old := root.Lstat(lockName)
		d.natural = hidden == nil || old != nil
	default:
		root.Close()
		return nil, wrap(blob.Errorf(blob.ErrInvalidArgument, "unknown layout %q (known: natural, escaped)", opts.Layout))
	}
	return blob.NewBucket(Scheme, dir, d), nil
}

type driver struct {
	root    *os.Root
	natural bool // the natural layout; else the escaped one
}

// meta is the content of an object's metadata file.
type meta struct {
	Size int64 `json:"size"`
	// MTime is the data file's modification time in nanoseconds when the
	// metadata was written: a data file whose size or time differ was
	// changed by another program since, and its metadata is stale. Zero
	// (written by releases before it) means not recorded.
	MTime              int64             `json:"mtime,omitempty"`
	ETag               string            `json:"etag"`
	ModTime            time.Time         `json:"modTime"`
	ContentType        string            `json:"contentType,omitempty"`
	ContentEncoding    string            `json:"contentEncoding,omitempty"`
	ContentDisposition string            `json:"contentDisposition,omitempty"`
	ContentLanguage    string            `json:"contentLanguage,omitempty"`
	CacheControl       string            `json:"cacheControl,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	StorageClass       string            `json:"storageClass,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
	// Checksums are the WriterOptions.Checksum other than MD5 (which the
	// ETag is), base64 by algorithm.
	Checksums map[blob.ChecksumAlgorithm]string `json:"checksums,omitempty"`
}

func (m *meta) attributes() *blob.Attributes {
	a := &blob.Attributes{
		Size: m.Size, ETag: m.ETag, ModTime: m.ModTime,
		ContentType: m.ContentType, ContentEncoding: m.ContentEncoding,
		ContentDisposition: m.ContentDisposition, ContentLanguage: m.ContentLanguage,
		CacheControl: m.CacheControl, Metadata: maps.Clone(m.Metadata),
		StorageClass: m.StorageClass,
	}
	if len(m.Tags) > 0 {
		a.Tags = maps.Clone(m.Tags)
	}
	if len(m.ETag) == 34 {
		if sum, err := hex.DecodeString(m.ETag[1:33]); err == nil {
			a.MD5 = sum
			a.Checksums = map[blob.ChecksumAlgorithm][]byte{blob.ChecksumMD5: sum}
		}
	}
	for alg, v := range m.Checksums {
		if sum, err := base64.StdEncoding.DecodeString(v); err == nil {
			if a.Checksums == nil {
				a.Checksums = map[blob.ChecksumAlgorithm][]byte{}
			}
			a.Checksums[alg] = sum
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

// loc is one place a key's data may be, with its metadata file; both
// paths are slash-separated and relative to the root.
type loc struct{ data, meta string }

// locs returns the places key may be stored, in the order reads look: in
// the natural layout its own path (when it can be one), then the overflow
// folder; in the escaped layout the one escaped path.
func (d *driver) locs(key string) []loc {
	if !d.natural {
		dir, file := keyPath(key)
		return []loc{{path.Join(dir, file), path.Join(dir, sidecar(file))}}
	}
	m := escapedPath(metaDir, key)
	over := loc{escapedPath(overflowDir, key), m}
	if naturalKey(key) {
		return []loc{{key, m}, over}
	}
	return []loc{over}
}

// tempDir is the directory where a write of key keeps its temporary
// files: the hidden folder's in the natural layout, the object's own
// directory in the escaped one.
func (d *driver) tempDir(key string) string {
	if d.natural {
		return tmpDir
	}
	dir, _ := keyPath(key)
	return dir
}

// lock takes the bucket's lock. Only an exclusive lock creates what it
// needs; a shared one on a bucket without a lock file takes none (see
// lockFile).
func (d *driver) lock(exclusive bool) (*fileLock, error) {
	if !d.natural {
		return lockFile(d.root, lockName, exclusive)
	}
	if exclusive {
		if err := d.root.Mkdir(hiddenDir, 0o777); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fsError(err)
		}
	}
	return lockFile(d.root, naturalLock, exclusive)
}

// derived is the metadata of a data file without a metadata file of its
// own (put there by another program, or changed by one since): its size
// and time, an ETag made of them, and the content type its extension
// gives (application/octet-stream when none).
func derived(st fs.FileInfo) *meta {
	ct := mime.TypeByExtension(path.Ext(st.Name()))
	if ct == "" {
		ct = "application/octet-stream"
	}
	return &meta{
		Size: st.Size(), ModTime: st.ModTime().UTC(),
		ETag:        fmt.Sprintf(`"%x-%x"`, st.Size(), st.ModTime().UnixNano()),
		ContentType: ct,
	}
}

// readMeta reads the metadata file p of the data file whose stat is data.
func (d *driver) readMeta(p string, data fs.FileInfo) (*meta, error) {
	raw, err := d.root.ReadFile(p)
	if isNotDirOrNotExist(err) {
		return derived(data), nil
	}
	if err != nil {
		return nil, fsError(err)
	}
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, blob.Errorf(blob.ErrInternal, "corrupt metadata file %s: %v", p, err)
	}
	if m.MTime != 0 && (m.Size != data.Size() || m.MTime != data.ModTime().UnixNano()) {
		return derived(data), nil
	}
	return &m, nil
}

// open opens key's data file and reads its metadata under a shared lock, so
// the two belong to the same version.
func (d *driver) open(key string) (*os.File, *meta, error) {
	l, err := d.lock(false)
	if err != nil {
		return nil, nil, err
	}
	defer l.unlock()
	for _, at := range d.locs(key) {
		// Not blocking: a named pipe in a tree is skipped, not waited on.
		f, err := d.root.OpenFile(at.data, os.O_RDONLY|openNonblock, 0)
		if err != nil {
			if isNotDirOrNotExist(err) {
				continue
			}
			return nil, nil, fsError(err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, nil, fsError(err)
		}
		if !st.Mode().IsRegular() {
			f.Close()
			continue
		}
		m, err := d.readMeta(at.meta, st)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return f, m, nil
	}
	return nil, nil, notFound()
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
	f, tmp, err := d.createTemp(d.tempDir(key))
	if err != nil {
		return nil, err
	}
	w := &writer{d: d, key: key, f: f, tmp: tmp, opts: *opts, hash: md5.New()}
	if alg := opts.Checksum; alg != "" && alg != blob.ChecksumMD5 {
		w.extra = checksum.New(alg)
	}
	return w, nil
}

type writer struct {
	d    *driver
	key  string
	f    *os.File
	tmp  string
	opts blob.WriterOptions
	hash hash.Hash
	// extra is WriterOptions.Checksum's hash when it is not MD5.
	extra hash.Hash
	size  int64
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.hash.Write(p[:n])
	if w.extra != nil {
		w.extra.Write(p[:n])
	}
	w.size += int64(n)
	return n, fsError(err)
}

func (w *writer) Close() error {
	st, err := w.f.Stat()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.d.root.Remove(w.tmp)
		return fsError(err)
	}
	m := &meta{
		Size: w.size, MTime: st.ModTime().UnixNano(), ModTime: st.ModTime().UTC(),
		ETag:        `"` + hex.EncodeToString(w.hash.Sum(nil)) + `"`,
		ContentType: w.opts.ContentType, ContentEncoding: w.opts.ContentEncoding,
		ContentDisposition: w.opts.ContentDisposition, ContentLanguage: w.opts.ContentLanguage,
		CacheControl: w.opts.CacheControl, Metadata: w.opts.Metadata,
		StorageClass: w.opts.StorageClass, Tags: w.opts.Tags,
	}
	if w.extra != nil {
		m.Checksums = map[blob.ChecksumAlgorithm]string{w.opts.Checksum: checksum.Base64(w.extra.Sum(nil))}
	}
	if m.ContentType == "" {
		m.ContentType = "application/octet-stream"
	}
	return w.d.commit(w.key, w.tmp, m, w.opts.IfNotExist, w.opts.IfMatch)
}

func (w *writer) Abort(error) error {
	w.f.Close()
	if err := w.d.root.Remove(w.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fsError(err)
	}
	return nil
}

// commit moves the temporary data file tmp into place as key with metadata
// m, checking the preconditions under the exclusive lock. It removes tmp on
// failure.
func (d *driver) commit(key, tmp string, m *meta, ifNotExist bool, ifMatch string) (err error) {
	defer func() {
		if err != nil {
			d.root.Remove(tmp)
		}
	}()
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	mf, mtmp, err := d.createTemp(d.tempDir(key))
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

	l, err := d.lock(true)
	if err != nil {
		return err
	}
	defer l.unlock()
	cur, st, err := d.find(key)
	if err != nil {
		return err
	}
	if err := d.checkPrecondition(cur, st, ifNotExist, ifMatch); err != nil {
		return err
	}
	if commitHook != nil {
		commitHook()
	}
	at, err := d.place(key)
	if err != nil {
		return err
	}
	if err := d.root.MkdirAll(path.Dir(at.meta), 0o777); err != nil {
		return fsError(err)
	}
	if err := d.root.Rename(mtmp, at.meta); err != nil {
		return fsError(err)
	}
	if err := d.root.Rename(tmp, at.data); err != nil {
		return fsError(err)
	}
	if st != nil && cur.data != at.data {
		// The key moved (from the overflow folder to its own path, now
		// free): the old copy goes.
		d.removeData(cur.data)
	}
	return nil
}

// commitHook, set only by tests, runs between the precondition check and
// the renames, to widen the window a missing lock would leave open.
var commitHook func()

// find returns where key is stored and its data file's stat; st is nil
// when key does not exist. The caller holds the lock.
func (d *driver) find(key string) (loc, fs.FileInfo, error) {
	for _, at := range d.locs(key) {
		st, err := d.root.Stat(at.data)
		if err != nil {
			if isNotDirOrNotExist(err) {
				continue
			}
			return loc{}, nil, fsError(err)
		}
		if st.Mode().IsRegular() {
			return at, st, nil
		}
	}
	return loc{}, nil, nil
}

// place returns where a write of key goes, making the directories it
// needs: in the natural layout its own path if it can be one and nothing
// stands in the way (a file where a directory must be, a directory where
// the file must be), else the overflow folder. The caller holds the
// exclusive lock.
func (d *driver) place(key string) (loc, error) {
	at := d.locs(key)
	if len(at) == 2 {
		free, err := d.free(key)
		if err != nil {
			return loc{}, err
		}
		if free {
			return at[0], nil
		}
		at = at[1:]
	}
	if err := d.root.MkdirAll(path.Dir(at[0].data), 0o777); err != nil {
		return loc{}, fsError(err)
	}
	return at[0], nil
}

// free reports whether the natural path p can take a file, making its
// parent directories.
func (d *driver) free(p string) (bool, error) {
	if dir := path.Dir(p); dir != "." {
		if err := d.root.MkdirAll(dir, 0o777); err != nil {
			if isNotDir(err) || errors.Is(err, fs.ErrExist) {
				return false, nil // a file stands where a directory must be
			}
			return false, fsError(err)
		}
	}
	st, err := d.root.Lstat(p)
	if err == nil && st.IsDir() {
		return false, nil
	}
	return true, nil
}

// checkPrecondition runs under the exclusive lock; at and st are find's.
func (d *driver) checkPrecondition(at loc, st fs.FileInfo, ifNotExist bool, ifMatch string) error {
	switch {
	case ifNotExist && st != nil:
		return blob.Errorf(blob.ErrPreconditionFailed, "object exists")
	case ifMatch != "" && st == nil:
		return blob.Errorf(blob.ErrPreconditionFailed, "object does not exist, so it cannot match ETag %s", ifMatch)
	case ifMatch != "":
		m, err := d.readMeta(at.meta, st)
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
	found := map[string]loc{}
	dir, keyPrefix := dirPrefix(opts.Prefix)
	if !d.natural {
		if err := d.walk(dir, ".", keyPrefix, "", found); err != nil {
			return nil, err
		}
	} else {
		if err := d.walk(path.Join(overflowDir, dir), overflowDir, keyPrefix, "", found); err != nil {
			return nil, err
		}
		if dir, keyPrefix, ok := naturalDir(opts.Prefix); ok {
			if err := d.walkNatural(dir, keyPrefix, found); err != nil {
				return nil, err
			}
		}
	}
	keys := slices.Sorted(maps.Keys(found))
	return pager.Page(keys, opts, func(k string) (blob.ObjectInfo, bool) {
		at := found[k]
		st, err := d.root.Stat(at.data)
		if err != nil || !st.Mode().IsRegular() {
			return blob.ObjectInfo{}, false
		}
		m, err := d.readMeta(at.meta, st)
		if err != nil {
			return blob.ObjectInfo{}, false
		}
		return blob.ObjectInfo{Key: k, Size: m.Size, ModTime: m.ModTime, ETag: m.ETag}, true
	})
}

// naturalDir returns the directory, relative to the root, under which the
// natural layout keeps every key starting with prefix, and the key prefix
// it stands for; ok is false when no key with that prefix can be a path.
func naturalDir(prefix string) (dir, keyPrefix string, ok bool) {
	i := strings.LastIndexByte(prefix, '/')
	if i < 0 {
		return ".", "", true
	}
	if !naturalKey(prefix[:i]) {
		return "", "", false
	}
	return prefix[:i], prefix[:i+1], true
}

// readDir reads the entries of dir; a missing dir, or a file, has none.
func (d *driver) readDir(dir string) ([]fs.DirEntry, error) {
	f, err := d.root.Open(dir)
	if err != nil {
		if isNotDirOrNotExist(err) {
			return nil, nil
		}
		return nil, fsError(err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		if isNotDir(err) {
			return nil, nil // a file where the prefix names a folder
		}
		return nil, fsError(err)
	}
	return entries, nil
}

// walkNatural adds to found every key stored at its own path under dir,
// which stands for keyPrefix: every regular file whose path is a valid
// key, but not the hidden folder. Symbolic links and other special files
// are not objects.
func (d *driver) walkNatural(dir, keyPrefix string, found map[string]loc) error {
	if len(keyPrefix) >= blob.MaxKeyLen {
		return nil // nothing deeper is a valid key
	}
	entries, err := d.readDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if dir == "." && strings.EqualFold(name, hiddenDir) {
			continue
		}
		switch {
		case e.IsDir():
			if err := d.walkNatural(path.Join(dir, name), keyPrefix+name+"/", found); err != nil {
				return err
			}
		case e.Type().IsRegular():
			key := keyPrefix + name
			if blob.ValidateKey(key) != nil || !naturalKey(key) {
				continue
			}
			found[key] = loc{path.Join(dir, name), escapedPath(metaDir, key)}
		}
	}
	return nil
}

// walk adds to found every key the escaped layout stores under dir, which
// stands for the key prefix keyPrefix plus the escaped piece text pending;
// base is the directory the layout starts at.
func (d *driver) walk(dir, base, keyPrefix, pending string, found map[string]loc) error {
	entries, err := d.readDir(dir)
	if err != nil {
		return err
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
				if err := d.walk(path.Join(dir, name), base, keyPrefix, pending+name[:len(name)-1], found); err != nil {
					return err
				}
			case dirMark:
				seg, ok := unescape(pending + name[:len(name)-1])
				if !ok {
					continue
				}
				if err := d.walk(path.Join(dir, name), base, keyPrefix+seg+"/", "", found); err != nil {
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
			if escapedPath(base, key) != path.Join(dir, name) {
				continue // not a name the layout would give this key
			}
			if _, ok := found[key]; !ok {
				at := d.locs(key)
				found[key] = at[len(at)-1]
			}
		}
	}
	return nil
}

func (d *driver) Delete(_ context.Context, key string) error {
	l, err := d.lock(true)
	if err != nil {
		return err
	}
	defer l.unlock()
	return d.remove(key)
}

// remove deletes key's data (wherever it is) and metadata, and the
// directories that leaves empty. The caller holds the exclusive lock.
func (d *driver) remove(key string) error {
	for _, at := range d.locs(key) {
		if err := d.removeData(at.data); err != nil {
			return err
		}
	}
	at := d.locs(key)[0]
	if err := d.root.Remove(at.meta); err != nil && !isNotDirOrNotExist(err) {
		return fsError(err)
	}
	d.prune(path.Dir(at.meta))
	return nil
}

// removeData removes the data file p, if it is one, and the directories
// that leaves empty.
func (d *driver) removeData(p string) error {
	st, err := d.root.Lstat(p)
	if err != nil {
		if isNotDirOrNotExist(err) {
			return nil
		}
		return fsError(err)
	}
	if st.IsDir() {
		return nil // a folder of keys, not this key
	}
	if err := d.root.Remove(p); err != nil && !isNotDirOrNotExist(err) {
		return fsError(err)
	}
	d.prune(path.Dir(p))
	return nil
}

// prune removes dir and its parents while they are empty, up to the root
// or the layout's own folders, which stay. An object store has no empty
// folders, so a folder emptied by a Delete goes, as it would there.
func (d *driver) prune(dir string) {
	for dir != "." && dir != hiddenDir && dir != metaDir && dir != overflowDir {
		if d.root.Remove(dir) != nil {
			return // not empty, or gone
		}
		dir = path.Dir(dir)
	}
}

// DeleteKeys deletes every key under one hold of the lock.
func (d *driver) DeleteKeys(_ context.Context, keys []string) error {
	l, err := d.lock(true)
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
	f, tmp, err := d.createTemp(d.tempDir(dstKey))
	if err != nil {
		return err
	}
	sum := md5.New()
	_, err = io.Copy(io.MultiWriter(f, sum), io.NewSectionReader(src, 0, m.Size))
	var st fs.FileInfo
	if err == nil {
		st, err = f.Stat()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.root.Remove(tmp)
		return fsError(err)
	}
	c := *m
	c.MTime, c.ModTime = st.ModTime().UnixNano(), st.ModTime().UTC()
	c.ETag = `"` + hex.EncodeToString(sum.Sum(nil)) + `"`
	if opts.Metadata != nil {
		c.Metadata = opts.Metadata
	}
	if opts.ContentType != "" {
		c.ContentType = opts.ContentType
	}
	if opts.StorageClass != "" {
		c.StorageClass = opts.StorageClass
	}
	return d.commit(dstKey, tmp, &c, opts.IfNotExist, "")
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
