// Package gcp is the Google Cloud Storage driver, on
// cloud.google.com/go/storage.
//
// Open a bucket with OpenBucket, or with blob.OpenBucket and a URL:
//
//	gs://BUCKET?project=PROJECT&endpoint=URL
//
// or with blob.OpenFromEnv and CLOUD_PROVIDER=gcp (aliases gcs, gs).
// STORAGE_EMULATOR_HOST, when set, is read once, by the URL opener, and
// points the bucket at an emulator (fake-gcs-server) without credentials.
// Otherwise credentials come from auth/gcpcred: Application Default
// Credentials in their standard order (GOOGLE_APPLICATION_CREDENTIALS, the
// gcloud well-known file, the metadata server), with service-account keys,
// authorized users, impersonation and external accounts (AWS workload
// identity federation included). When none is found, opening fails with
// ErrUnauthenticated and the chain's report of every source.
//
// # Versions and ETags
//
// The ETag this driver exposes is the object's generation, quoted:
// "1700000000123456". It is the same from Attributes, List and
// Reader.Attrs. IfMatch (on reads and writes) is a generation match on that
// number; IfNotExist is the DoesNotExist precondition (ifGenerationMatch=0);
// both are checked by the service, atomically. A read is pinned to the
// generation it starts on; with IfMatch, to that generation.
//
// # Integrity
//
// A full read verifies the object's CRC32C when the service sends it (the
// storage client does it and fails the read on a mismatch); a ranged read
// cannot.
//
// # Writes
//
// A Writer streams with a resumable upload in chunks of
// WriterOptions.PartSize (default 16 MiB, rounded up to 256 KiB), holding
// one chunk in memory; an object smaller than a chunk goes in one request at
// Close. Nothing is visible before Close; Abort or a canceled context
// cancels the upload.
//
// # Signed URLs
//
// SignedURL signs V4 URLs with the service account key of Options.SignerKey
// (or of the credentials file), or, with no key, through the IAM
// Credentials signBlob call for the credentials' service account.
//
// blob.As reaches **storage.Client and **storage.BucketHandle.
package gcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/anyblob/anyblob/auth/gcpcred"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/pager"
)

// Scheme is the URL scheme this driver registers: "gs".
const Scheme = "gs"

// DefaultPartSize is the chunk size of uploads when WriterOptions.PartSize
// is 0.
const DefaultPartSize = 16 << 20

// Options configures a Client. The zero value uses Application Default
// Credentials against Google Cloud Storage.
type Options struct {
	// Endpoint, when set, is the JSON API endpoint, such as an emulator's
	// "http://127.0.0.1:4443/storage/v1/". "" means Google's.
	Endpoint string
	// Anonymous sends no credentials (for emulators and public buckets).
	Anonymous bool
	// Credentials are used when set; nil means the GCP chain of
	// auth/gcpcred (Application Default Credentials), unless Anonymous.
	Credentials *google.Credentials
	// AllowInsecureCredentials lets credentials go to an http:// endpoint.
	// Without it, an http endpoint with credentials is ErrInvalidArgument:
	// bearer tokens travel over https only.
	AllowInsecureCredentials bool
	// Project is the project for calls that need one; optional.
	Project string
	// ClientOptions are passed to storage.NewClient after the ones Options
	// makes, so they win (credentials, HTTP client, ...).
	ClientOptions []option.ClientOption
	// SignerEmail and SignerKey (a PEM private key) sign URLs locally.
	// Without them SignedURL uses the credentials' own key, or IAM signBlob.
	SignerEmail string
	SignerKey   []byte
}

// Client is a GCS client that opens buckets. It is safe for concurrent use.
type Client struct {
	sc   *storage.Client
	opts Options
	// insecure is true for an http:// endpoint, so signed URLs use http.
	insecure bool
}

// New returns a client for opts. Errors: ErrInvalidArgument for a bad
// endpoint; the storage client's own errors (ErrUnauthenticated when no
// credentials are found) otherwise.
func New(ctx context.Context, opts Options) (*Client, error) {
	var co []option.ClientOption
	c := &Client{opts: opts}
	if opts.Endpoint != "" {
		u, err := url.Parse(opts.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, blob.Errorf(blob.ErrInvalidArgument, "gs: endpoint %q is not an http(s) URL", opts.Endpoint)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/storage/v1/"
		}
		c.insecure = u.Scheme == "http"
		co = append(co, option.WithEndpoint(u.String()))
	}
	switch {
	case opts.Anonymous:
		co = append(co, option.WithoutAuthentication())
	case c.insecure && !opts.AllowInsecureCredentials:
		return nil, blob.Errorf(blob.ErrInvalidArgument, "gs: endpoint %q is http: credentials are only sent over https (set Anonymous, or AllowInsecureCredentials for a test server)", opts.Endpoint)
	default:
		creds := opts.Credentials
		if creds == nil {
			found, _, err := gcpcred.Find(ctx, &gcpcred.Options{Scopes: []string{storage.ScopeFullControl}})
			if err != nil {
				return nil, &blob.Error{Kind: blob.ErrUnauthenticated, Op: "Open", Provider: Scheme, Err: err}
			}
			creds = found
		}
		co = append(co, option.WithCredentials(creds))
	}
	co = append(co, opts.ClientOptions...)
	sc, err := storage.NewClient(ctx, co...)
	if err != nil {
		return nil, &blob.Error{Kind: blob.ErrUnauthenticated, Op: "Open", Provider: Scheme, Err: err}
	}
	c.sc = sc
	return c, nil
}

// Storage returns the underlying storage client.
func (c *Client) Storage() *storage.Client { return c.sc }

// Close closes the storage client.
func (c *Client) Close() error { return c.sc.Close() }

// Bucket returns the bucket name through this client. Closing the bucket
// does not close the client.
func (c *Client) Bucket(name string) blob.Bucket {
	return blob.NewBucket(Scheme, name, &driver{c: c, bkt: c.sc.Bucket(name), name: name})
}

// OpenBucket returns bucket name with a client of its own, closed with the
// bucket.
func OpenBucket(ctx context.Context, name string, opts Options) (blob.Bucket, error) {
	c, err := New(ctx, opts)
	if err != nil {
		return nil, err
	}
	return blob.NewBucket(Scheme, name, &driver{c: c, bkt: c.sc.Bucket(name), name: name, owns: true}), nil
}

type driver struct {
	c    *Client
	bkt  *storage.BucketHandle
	name string
	owns bool // Close closes the client
}

// etagOf is the ETag for a generation.
func etagOf(gen int64) string { return `"` + strconv.FormatInt(gen, 10) + `"` }

// generationOf parses an ETag made by etagOf.
func generationOf(etag string) (int64, error) {
	s := strings.TrimPrefix(strings.TrimSuffix(etag, `"`), `"`)
	s = strings.TrimPrefix(s, "W/")
	g, err := strconv.ParseInt(strings.Trim(s, `"`), 10, 64)
	if err != nil || g <= 0 {
		return 0, blob.Errorf(blob.ErrPreconditionFailed, "ETag %q is not a GCS generation, so it matches no object", etag)
	}
	return g, nil
}

func (d *driver) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *blob.ReaderOptions) (blob.Reader, error) {
	obj := d.bkt.Object(key)
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
	r, err := obj.NewRangeReader(ctx, offset, length)
	if err != nil {
		if status(err) == http.StatusRequestedRangeNotSatisfiable {
			a, aerr := obj.Attrs(ctx)
			if aerr != nil {
				return nil, aerr
			}
			return emptyReader(a), nil
		}
		return nil, err
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

func (d *driver) Attributes(ctx context.Context, key string) (*blob.Attributes, error) {
	a, err := d.bkt.Object(key).Attrs(ctx)
	if err != nil {
		return nil, err
	}
	return &blob.Attributes{
		Size: a.Size, ContentType: a.ContentType, ContentEncoding: a.ContentEncoding,
		ContentDisposition: a.ContentDisposition, ContentLanguage: a.ContentLanguage,
		CacheControl: a.CacheControl, Metadata: maps.Clone(a.Metadata),
		ModTime: a.Updated, ETag: etagOf(a.Generation), MD5: a.MD5,
	}, nil
}

// List pages with its own token: the last key or common prefix returned,
// from which the next page starts (GCS's startOffset). The page is cut to
// PageSize entries, objects and prefixes together in byte order, also when
// a server returns more (fake-gcs-server ignores maxResults with a
// delimiter).
func (d *driver) List(ctx context.Context, opts *blob.ListOptions) (*blob.ListPage, error) {
	after, afterPrefix, err := pager.After(opts.PageToken)
	if err != nil {
		return nil, err
	}
	q := &storage.Query{Prefix: opts.Prefix, Delimiter: opts.Delimiter}
	switch {
	case after != "" && afterPrefix:
		q.StartOffset = successor(after)
	case after != "":
		q.StartOffset = after // inclusive: the key itself is dropped below
	}
	if err := q.SetAttrSelection([]string{"Name", "Size", "Updated", "Generation"}); err != nil {
		return nil, err
	}
	var objs []*storage.ObjectAttrs
	// One more than a page tells whether another page follows.
	next, err := iterator.NewPager(d.bkt.Objects(ctx, q), opts.PageSize+1, "").NextPage(&objs)
	if err != nil {
		return nil, err
	}
	type entry struct {
		name     string
		isPrefix bool
		o        *storage.ObjectAttrs
	}
	var entries []entry
	for _, o := range objs {
		switch {
		case o.Prefix != "":
			entries = append(entries, entry{name: o.Prefix, isPrefix: true})
		case o.Name == after && !afterPrefix:
		default:
			entries = append(entries, entry{name: o.Name, o: o})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	page := &blob.ListPage{}
	if len(entries) > opts.PageSize || (next != "" && len(entries) > 0) {
		entries = entries[:min(len(entries), opts.PageSize)]
		last := entries[len(entries)-1]
		page.NextPageToken = pager.Token(last.name, last.isPrefix)
	}
	for _, e := range entries {
		if e.isPrefix {
			page.Prefixes = append(page.Prefixes, e.name)
			continue
		}
		page.Objects = append(page.Objects, blob.ObjectInfo{Key: e.name, Size: e.o.Size, ModTime: e.o.Updated, ETag: etagOf(e.o.Generation)})
	}
	return page, nil
}

// successor returns the smallest string greater than every string that
// starts with p.
func successor(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "" // p is all 0xff bytes: nothing follows; never a valid UTF-8 prefix
}

func (d *driver) Delete(ctx context.Context, key string) error {
	return d.bkt.Object(key).Delete(ctx)
}

// Copy rewrites srcKey into dstKey on the service, call after call until
// a large object is done, pinned to the source generation it first saw.
// The copy always carries a full set of attributes (the source's, with
// opts' replacements), so the result does not depend on the service's
// defaults for a rewrite.
func (d *driver) Copy(ctx context.Context, dstKey, srcKey string, opts *blob.CopyOptions) error {
	src := d.bkt.Object(srcKey)
	a, err := src.Attrs(ctx)
	if err != nil {
		return err
	}
	dst := d.bkt.Object(dstKey)
	if opts.IfNotExist {
		// The service checks DoesNotExist atomically. The look first
		// answers the common case without a rewrite, and covers emulators
		// that ignore preconditions on rewrites (fake-gcs-server).
		if _, err := dst.Attrs(ctx); err == nil {
			return blob.Errorf(blob.ErrPreconditionFailed, "the destination exists")
		} else if !errors.Is(err, storage.ErrObjectNotExist) {
			return err
		}
		dst = dst.If(storage.Conditions{DoesNotExist: true})
	}
	c := dst.CopierFrom(src.Generation(a.Generation))
	c.ContentType = a.ContentType
	if opts.ContentType != "" {
		c.ContentType = opts.ContentType
	}
	c.ContentEncoding = a.ContentEncoding
	c.ContentDisposition = a.ContentDisposition
	c.ContentLanguage = a.ContentLanguage
	c.CacheControl = a.CacheControl
	c.Metadata = a.Metadata
	if opts.Metadata != nil {
		c.Metadata = opts.Metadata
	}
	_, err = c.Run(ctx)
	return err
}

func (d *driver) SignedURL(ctx context.Context, key string, opts *blob.SignedURLOptions) (string, error) {
	// The client counts whole seconds down from its own clock; half a
	// second of slack keeps X-Goog-Expires at the expiry asked for (the
	// 7-day maximum itself comes out one second shorter).
	expiry := opts.Expiry
	if expiry <= blob.MaxSignedURLExpiry-time.Second {
		expiry += 500 * time.Millisecond
	}
	so := &storage.SignedURLOptions{
		Scheme:   storage.SigningSchemeV4,
		Method:   opts.Method,
		Expires:  time.Now().Add(expiry),
		Insecure: d.c.insecure,
	}
	if opts.ContentType != "" {
		so.ContentType = opts.ContentType
	}
	if d.c.opts.SignerKey != nil {
		so.GoogleAccessID = d.c.opts.SignerEmail
		so.PrivateKey = d.c.opts.SignerKey
	}
	u, err := d.bkt.SignedURL(key, so)
	if err != nil {
		return "", blob.Errorf(blob.ErrUnauthenticated, "gs: cannot sign: %v", err)
	}
	return u, nil
}

func (d *driver) Close() error {
	if d.owns {
		return d.c.Close()
	}
	return nil
}

// As exposes **storage.Client and **storage.BucketHandle.
func (d *driver) As(target any) bool {
	switch p := target.(type) {
	case **storage.Client:
		*p = d.c.sc
	case **storage.BucketHandle:
		*p = d.bkt
	default:
		return false
	}
	return true
}

// String is for debugging.
func (d *driver) String() string { return fmt.Sprintf("gs://%s", d.name) }
