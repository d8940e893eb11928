package main

import (
	"context"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/anyblob/anyblob/blob"
)

// addrKind is what an address names.
type addrKind int

const (
	addrObject addrKind = iota // a key (or folder) in a bucket
	addrLocal                  // a local file or folder
	addrStdio                  // "-": standard input or output
)

// address is where a command argument points. See the package doc.
type address struct {
	raw  string // as written, for messages
	kind addrKind
	// bucket is the bucket URL of an object, "" for the default bucket.
	bucket string
	// key is the object's key; for a folder, the prefix ("" or ending in "/").
	key string
	// path is a local file or folder.
	path string
	// folder: the address names a folder, not one object or file (a
	// trailing '/', an existing directory, a bucket with no key).
	folder bool
}

// urlScheme matches the start of a URL: scheme://.
var urlScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// resolver turns arguments into addresses, knowing the --bucket flag.
type resolver struct {
	defaultBucket string // --bucket, "" for the environment's
}

// object resolves an argument of ls, cat, rm, stat or presign: a bucket
// URL with a key, :KEY, or a bare KEY on the default bucket.
func (r resolver) object(arg string) (address, error) {
	if urlScheme.MatchString(arg) {
		return r.bucketURL(arg)
	}
	key := strings.TrimPrefix(arg, ":")
	return address{raw: arg, kind: addrObject, key: key, folder: key == "" || strings.HasSuffix(key, "/")}, nil
}

// cpArg resolves an argument of cp: a bucket URL with a key, :KEY, "-",
// or a local path.
func (r resolver) cpArg(arg string) (address, error) {
	switch {
	case urlScheme.MatchString(arg):
		return r.bucketURL(arg)
	case strings.HasPrefix(arg, ":"):
		return r.object(arg)
	case arg == "-":
		return address{raw: arg, kind: addrStdio}, nil
	case arg == "":
		return address{}, usagef("cp: an empty path names no file; write a path, :KEY or a bucket URL")
	}
	a := address{raw: arg, kind: addrLocal, path: arg}
	if strings.HasSuffix(arg, "/") || strings.HasSuffix(arg, string(filepath.Separator)) {
		a.folder = true
	} else if st, err := os.Stat(arg); err == nil && st.IsDir() {
		a.folder = true
	}
	return a, nil
}

// bucketURL splits SCHEME://BUCKET/KEY?QUERY into the bucket URL
// SCHEME://BUCKET?QUERY, which blob.OpenBucket opens, and KEY, as
// written. file URLs have a rule of their own (fileURL).
func (r resolver) bucketURL(arg string) (address, error) {
	scheme := urlScheme.FindStringSubmatch(arg)[1]
	rest, query, hasQuery := strings.Cut(arg[len(scheme)+len("://"):], "?")
	if strings.EqualFold(scheme, "file") {
		return r.fileURL(arg, rest, query)
	}
	name, key, _ := strings.Cut(rest, "/")
	if name == "" {
		return address{}, usagef("%s names no bucket; write %s://BUCKET/KEY", arg, scheme)
	}
	u := scheme + "://" + name
	if hasQuery {
		u += "?" + query
	}
	return address{raw: arg, kind: addrObject, bucket: u, key: key, folder: key == "" || strings.HasSuffix(key, "/")}, nil
}

// fileURL splits file:///PATH: the bucket is the --bucket directory when
// PATH is in it, else the nearest directory above PATH that anyblob has
// written to as a bucket, else the directory PATH is in (PATH itself when
// it is a folder: it ends in '/' or is a directory).
func (r resolver) fileURL(arg, rest, query string) (address, error) {
	host, p, _ := strings.Cut(rest, "/")
	if host != "" && host != "localhost" {
		return address{}, usagef("%s: a file URL has no host; write file:///absolute/path", arg)
	}
	p = "/" + p
	folder := strings.HasSuffix(p, "/")
	p = path.Clean(p)
	if !folder {
		if st, err := os.Stat(filepath.FromSlash(p)); err == nil && st.IsDir() {
			folder = true
		}
	}
	start := p
	if !folder {
		start = path.Dir(p)
	}
	bucketURL := ""
	dir, dq, ok := r.defaultDir()
	switch {
	case ok && inDir(p, dir):
		bucketURL = r.defaultBucket
		if query != "" && query != dq {
			bucketURL = fileBucketURL(dir, query)
		}
	default:
		if d, ok := bucketAbove(start); ok {
			dir = d
		} else {
			dir = start
		}
		bucketURL = fileBucketURL(dir, query)
	}
	key := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
	if folder && key != "" {
		key += "/"
	}
	return address{raw: arg, kind: addrObject, bucket: bucketURL, key: key, folder: folder}, nil
}

// defaultDir returns the directory and query of --bucket when it is a
// file URL.
func (r resolver) defaultDir() (dir, query string, ok bool) {
	u, err := url.Parse(r.defaultBucket)
	if err != nil || !strings.EqualFold(u.Scheme, "file") || u.Path == "" {
		return "", "", false
	}
	return path.Clean(u.Path), u.RawQuery, true
}

// inDir reports whether the slash path p is dir or under it.
func inDir(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

func fileBucketURL(dir, query string) string {
	return (&url.URL{Scheme: "file", Path: dir, RawQuery: query}).String()
}

// bucketAbove returns dir or the nearest directory above it that anyblob
// has written to as a bucket: it holds the hidden .anyblob folder (the
// natural layout) or the %!lock file (the escaped layout).
func bucketAbove(dir string) (string, bool) {
	for {
		for _, mark := range []string{".anyblob", "%!lock"} {
			if _, err := os.Lstat(filepath.Join(filepath.FromSlash(dir), mark)); err == nil {
				return dir, true
			}
		}
		parent := path.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// buckets opens each bucket a command names once, and closes them all at
// the end.
// It is safe for concurrent use: a transfer's workers share it.
type buckets struct {
	defaultBucket string // --bucket, "" for the environment's
	mu            sync.Mutex
	open          map[string]blob.Bucket
}

func newBuckets(g *globals) *buckets {
	return &buckets{defaultBucket: g.bucket, open: map[string]blob.Bucket{}}
}

// id is the name under which the bucket of a is opened: two addresses
// with the same id are in the same bucket.
func (bs *buckets) id(a address) string {
	if a.bucket == "" {
		return bs.defaultBucket
	}
	return a.bucket
}

// get returns the bucket of the object address a, opening it the first
// time.
func (bs *buckets) get(ctx context.Context, a address) (blob.Bucket, error) {
	id := bs.id(a)
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b, ok := bs.open[id]; ok {
		return b, nil
	}
	var b blob.Bucket
	var err error
	if id == "" {
		b, err = blob.OpenFromEnv(ctx)
	} else {
		b, err = blob.OpenBucket(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	bs.open[id] = b
	return b, nil
}

// close closes every bucket opened and returns err or, when err is nil,
// the first error of closing.
func (bs *buckets) close(err error) error {
	for _, b := range bs.open {
		if cerr := b.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// display is how messages name a: a local path as it is, an object of
// the default bucket as :KEY, any other object as its bucket URL with the
// key and without the query (s3://bucket/key).
func display(a address) string {
	switch a.kind {
	case addrLocal:
		return a.path
	case addrStdio:
		return "-"
	}
	if a.bucket == "" {
		return ":" + a.key
	}
	base, _, _ := strings.Cut(a.bucket, "?")
	return strings.TrimSuffix(base, "/") + "/" + a.key
}
