package aws

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anyblob/anyblob/blob"
)

// Scheme is the URL scheme of S3 buckets: s3://bucket.
const Scheme = "s3"

// Bucket returns the bucket name through c as a blob.Bucket. It does not
// contact S3. A name S3 cannot have (3 to 63 characters of lower-case
// letters, digits, '.' and '-', starting and ending with a letter or digit)
// is blob.ErrInvalidArgument. Closing the bucket does not close c.
func (c *Client) Bucket(name string) (blob.Bucket, error) {
	if err := validateBucketName(name); err != nil {
		return nil, openErr(name, err)
	}
	return blob.NewBucket(Scheme, name, &driver{c: c, name: name, esc: c.escapeKeys}), nil
}

// OpenBucket is New followed by Client.Bucket: it fails with
// blob.ErrInvalidArgument for bad options or a bad bucket name, and does
// not contact S3. ctx is not kept; it bounds nothing here, and is there so
// every provider's OpenBucket has the same shape.
func OpenBucket(ctx context.Context, name string, opts Options) (blob.Bucket, error) {
	c, err := New(ctx, opts)
	if err != nil {
		return nil, openErr(name, err)
	}
	return c.Bucket(name)
}

// validateBucketName checks S3's bucket naming rules; a bad name is
// ErrInvalidRequest.
func validateBucketName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("%w: bucket name %q must be 3 to 63 characters", ErrInvalidRequest, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !alnum && (c != '.' && c != '-' || i == 0 || i == len(name)-1) {
			return fmt.Errorf("%w: bucket name %q: only lower-case letters, digits, '.' and '-' are allowed, starting and ending with a letter or digit", ErrInvalidRequest, name)
		}
	}
	return nil
}

// driver is the blob.Bucket of one S3 bucket.
type driver struct {
	c        *Client
	name     string
	esc      bool         // Options.EscapeKeys
	folders  folderCache  // names known to be folders, not objects
	listings listingCache // per folder, its subfolders that hold objects
	heads    flights      // checkFolders' HEADs of folder names, shared while in flight
}

// folderTTL is how long checkFolders trusts that a name is a folder and
// no object, and a folder's listing; maxFolders and maxListings bound
// the caches.
const (
	folderTTL   = 10 * time.Second
	maxFolders  = 4096
	maxListings = 1024
)

// folderPage is how many entries (objects and subfolders) checkFolders
// reads of a folder's listing, in one request; a folder with more is
// checked key by key. A variable so that tests can lower it.
var folderPage = 1000

// folderCache remembers names recently found to be folders, not objects.
type folderCache struct {
	mu sync.Mutex
	m  map[string]time.Time // name -> when it stops being trusted
}

func (f *folderCache) known(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	until, ok := f.m[name]
	return ok && time.Now().Before(until)
}

func (f *folderCache) forget(name string) {
	f.mu.Lock()
	delete(f.m, name)
	f.mu.Unlock()
}

func (f *folderCache) add(names []string) {
	if len(names) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil || len(f.m)+len(names) > maxFolders {
		f.m = map[string]time.Time{}
	}
	until := time.Now().Add(folderTTL)
	for _, n := range names {
		f.m[n] = until
	}
}

// listing is what one ListObjectsV2 of a folder (delimiter "/", one
// page) said: the subfolders that hold objects, or that the folder has
// more than a page.
type listing struct {
	done chan struct{} // closed once fetched

	// Guarded by listingCache.mu.
	fetched   bool
	until     time.Time // when it stops being trusted, once fetched
	truncated bool
	subs      map[string]struct{} // "dir/x/" in the listing of "dir/"

	// Set before done is closed.
	err       error
	abandoned bool // err came from the context of the caller that fetched
}

// listingCache holds listings of folders for folderTTL, and makes
// concurrent writers into one folder share one listing in flight.
type listingCache struct {
	mu sync.Mutex
	m  map[string]*listing
}

// get returns folder's listing: the one cached or in flight, else the
// one fetch returns (subfolders, whether the page was truncated). A
// failed fetch is not kept; its error goes to the callers that waited
// for it, except those it failed for only because the fetching caller's
// context ended: they fetch again.
func (c *listingCache) get(ctx context.Context, folder string, fetch func(context.Context) ([]string, bool, error)) (*listing, error) {
	for {
		c.mu.Lock()
		l := c.m[folder]
		if l != nil && (!l.fetched || time.Now().Before(l.until)) {
			c.mu.Unlock()
			select {
			case <-l.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if l.abandoned {
				continue
			}
			return l, l.err
		}
		l = &listing{done: make(chan struct{}), subs: map[string]struct{}{}}
		if c.m == nil || len(c.m) >= maxListings {
			c.m = map[string]*listing{}
		}
		c.m[folder] = l
		c.mu.Unlock()

		subs, truncated, err := fetch(ctx)
		c.mu.Lock()
		for _, s := range subs {
			l.subs[s] = struct{}{} // with what writes added meanwhile
		}
		l.fetched, l.until, l.truncated = true, time.Now().Add(folderTTL), truncated
		if err != nil && c.m[folder] == l {
			delete(c.m, folder)
		}
		c.mu.Unlock()
		l.err, l.abandoned = err, err != nil && ctx.Err() != nil
		close(l.done)
		return l, err
	}
}

// mayHold reports whether objects may exist under sub ("dir/x/"), a
// subfolder of l's folder: l was truncated, or listed sub.
func (c *listingCache) mayHold(l *listing, sub string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := l.subs[sub]
	return l.truncated || ok
}

// wrote adds what the object key, just written, makes true to the
// listings cached or in flight of the folders above it: "a/" holds
// objects in the listing of "", "a/b/" in that of "a/" (for "a/b/c").
func (c *listingCache) wrote(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	folder := 0 // key[:folder] is the folder whose subfolder ends at i
	for i := 0; i < len(key); i++ {
		if key[i] != '/' {
			continue
		}
		if l := c.m[key[:folder]]; l != nil {
			l.subs[key[:i+1]] = struct{}{}
		}
		folder = i + 1
	}
}

// k is the stored name of key. Under EscapeKeys, a stored name with a
// path segment over maxSegment bytes is ErrInvalidArgument: file-backed
// servers cannot hold it, and refusing it here fails every operation alike.
// Otherwise, unless the server is trusted with every key (AWS,
// Options.VerbatimKeys), a key the server's profile says it would store
// under another name is ErrInvalidArgument naming the server and the
// rule, before any request; while the server is not known yet, the
// generic profile's rules apply.
func (d *driver) k(key string) (string, error) {
	if !d.esc {
		if !d.c.verbatimKeys {
			p := d.c.knownProfile()
			if p == nil {
				p = genericProfile
			}
			if why := p.rules.breaks(key); why != "" {
				return "", blob.Errorf(blob.ErrInvalidArgument, "s3: the key has %s, which %s stores under another name or not at all (profile %s); refused before any request. Set escape_keys=true for a bucket only anyblob uses, or verbatim_keys=true for a server known to store keys as given", why, d.c.serverName(p), p.name)
			}
			if p.maxSegment > 0 {
				for seg := range strings.SplitSeq(key, "/") {
					if len(seg) > p.maxSegment {
						return "", blob.Errorf(blob.ErrInvalidArgument, "s3: the key has a path segment of %d bytes; %s stores at most %d (profile %s)", len(seg), d.c.serverName(p), p.maxSegment, p.name)
					}
				}
			}
		}
		return key, nil
	}
	s := escapeKey(key, true)
	for seg := range strings.SplitSeq(s, "/") {
		if len(seg) > maxSegment {
			return "", blob.Errorf(blob.ErrInvalidArgument, "s3: key has a path segment of %d bytes once escaped; with EscapeKeys at most %d are stored", len(seg), maxSegment)
		}
	}
	return s, nil
}

// serverName names the server of profile p in messages: the profile's
// name for the server, with the endpoint's host for the generic one.
func (c *Client) serverName(p *profile) string {
	if p == genericProfile {
		return "the S3-compatible server at " + c.endpoint.Host
	}
	return p.server
}

// Limits implements blob.Limiter. S3 stores keys of up to 1024 bytes;
// servers that keep objects as files (MinIO) store segments of at most 255
// bytes (253 once escaped under EscapeKeys). Unless EscapeKeys or
// VerbatimKeys is set, the keys the server's profile says it would store
// under another name are refused (k), and where it keeps objects as files,
// an object cannot also be a folder (writeKey). Which server it is comes
// from its profile; before it is known, Limits asks with one HEAD of the
// bucket (whose own outcome does not matter).
func (d *driver) Limits(ctx context.Context) (blob.Limits, error) {
	p, err := d.c.profileFor(ctx, d.name)
	if err != nil {
		return blob.Limits{}, err
	}
	l := blob.Limits{MaxKeyLen: blob.MaxKeyLen, MaxSegmentLen: p.maxSegment}
	switch {
	case d.esc:
		if l.MaxSegmentLen > 0 {
			l.MaxSegmentLen -= 2 // the escape marker and end
		}
	case !d.c.verbatimKeys:
		if p.rules != 0 {
			l.Refuses = p.rules.breaks
		}
		if p.folders {
			l.NoObjectFolders = d.c.serverName(p) + " keeps objects as files"
		}
	}
	return l, nil
}

// writeKey returns the stored name of key for a write, first learning the
// server's profile (one HEAD, once per client, when nothing named it yet),
// and refuses, before anything is sent, a write the profile says the
// server cannot do faithfully: a key it would store under another name
// (k), a conditional write on a server not known to apply conditions
// atomically (ErrNotImplemented), and, on a server that keeps objects as
// files, a key that would be an object and a folder at once
// (ErrInvalidArgument): one of its parent folders is an object, or objects
// exist under it. That last check (checkFolders) mostly answers from
// what this driver learnt in the last folderTTL, costing a write no
// request of its own; it is not atomic against a concurrent write of a
// clashing key, and does not apply under EscapeKeys or VerbatimKeys. The
// caller reports the write's outcome to wrote.
func (d *driver) writeKey(ctx context.Context, key string, conditional bool) (string, error) {
	p, err := d.c.profileFor(ctx, d.name)
	if err != nil {
		return "", err
	}
	stored, err := d.k(key)
	if err != nil {
		return "", err
	}
	if conditional && !p.conditional {
		return "", blob.Errorf(blob.ErrNotImplemented, "s3: %s is not known to apply If-None-Match and If-Match atomically, so a conditional write could overwrite silently; refused (profile %s; set profile=generic if your server's version does)", d.c.serverName(p), p.name)
	}
	if !p.folders || d.esc || d.c.verbatimKeys {
		return stored, nil
	}
	if err := d.checkFolders(ctx, p, stored); err != nil {
		return "", err
	}
	return stored, nil
}

// wrote is told the outcome err of a write of the stored name key
// (PutObject, CompleteMultipartUpload, CopyObject), and returns it. Once
// the write committed, checkFolders' caches learn what it made true: key
// is no folder, and each folder above it holds objects (so that a later
// write of "dir/x" through this driver after one of "dir/x/y" is
// refused). A failed write changes nothing; nor does one whose answer was
// lost, which goes unseen as a concurrent write does.
func (d *driver) wrote(key string, err error) error {
	if err == nil {
		d.folders.forget(key)
		d.listings.wrote(key)
	}
	return err
}

// checkFolders is writeKey's test of key against the objects around it,
// from two caches, each trusted for folderTTL. A parent found to be no
// object is remembered (folderCache), so that a tree of new keys costs
// one HEAD per folder, not one per key and folder, and writes that ask
// about one name at once share one HEAD (flights). Whether objects exist
// under "dir/name/" is read from the listing of its folder "dir/" (one
// page of ListObjectsV2 with delimiter "/": its subfolders), shared by
// the writes into that folder, those in flight at once included
// (listingCache): a folder costs one listing per folderTTL, not one
// request per key. A subfolder found there is confirmed with a listing
// under it, which also tells a folder marker "dir/name/" (which may sit
// beside the object) from objects under it; a folder of more than
// folderPage entries is checked that way for every key. What this
// driver writes updates the listings (wrote); a delete does not, as a
// subfolder that is gone costs only the confirming listing. What goes
// unseen: an object written by another client within folderTTL into the
// name of a folder found to be no object, or under a subfolder found
// empty, as a clash between two concurrent writes does.
func (d *driver) checkFolders(ctx context.Context, p *profile, key string) (err error) {
	// The folders above key: "a" and "a/b" for "a/b/c" (and for the
	// folder marker "a/b/c/", which may sit beside an object "a/b/c").
	var parents, checked []string
	for i := 1; i < len(key)-1; i++ {
		if key[i] == '/' {
			if d.folders.known(key[:i]) {
				continue
			}
			parents = append(parents, key[:i])
		}
	}
	checked = parents
	defer func() {
		if err == nil {
			d.folders.add(checked)
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(parents)+1)
	for _, parent := range parents {
		go func() {
			// Shared with the writes checking parent at the same time;
			// errObjectFolder: parent is an object.
			err := d.heads.do(ctx, parent, func(ctx context.Context) error {
				if d.folders.known(parent) {
					return nil // learned by a flight that ended after this write looked
				}
				_, _, err := d.c.doRead(ctx, &Request{Method: http.MethodHead, Bucket: d.name, Key: parent})
				switch {
				case err == nil:
					return errObjectFolder
				case kind(err) == blob.ErrNotFound:
					// Known before the flight ends, so that no write
					// starting after it asks again.
					d.folders.add([]string{parent})
					return nil
				}
				return err
			})
			if err == errObjectFolder {
				err = blob.Errorf(blob.ErrInvalidArgument, "s3: %s cannot store %q while the object %q exists: it keeps objects as files, and an object cannot also be a folder there; refused before any data was sent (escape_keys=true stores both)", d.c.serverName(p), key, parent)
			}
			errs <- err
		}()
	}
	n := len(parents)
	if !strings.HasSuffix(key, "/") {
		n++
		go func() { errs <- d.checkUnder(ctx, p, key) }()
	}
	for range n {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

// errObjectFolder is a folder name's HEAD in checkFolders finding an
// object, before it is told in the words of the key being written.
var errObjectFolder = errors.New("the folder's name is an object")

// checkUnder refuses key when objects exist under it, but its folder
// marker "key/": when its folder's listing shows "key/" (or has more
// than a page), it lists under key.
func (d *driver) checkUnder(ctx context.Context, p *profile, key string) error {
	folder := key[:strings.LastIndexByte(key, '/')+1]
	l, err := d.listings.get(ctx, folder, func(ctx context.Context) ([]string, bool, error) {
		return d.subfolders(ctx, folder)
	})
	if err != nil {
		return err
	}
	if !d.listings.mayHold(l, key+"/") {
		return nil
	}
	under := key + "/"
	q := url.Values{"list-type": {"2"}, "prefix": {under}, "max-keys": {"2"}}
	_, body, err := d.c.doRead(ctx, &Request{Method: http.MethodGet, Bucket: d.name, Query: q})
	var res listResult
	if err == nil {
		if xerr := xml.Unmarshal(body, &res); xerr != nil {
			err = blob.Errorf(blob.ErrInternal, "s3: ListObjectsV2: malformed answer: %v", xerr)
		}
	}
	if err == nil && slices.ContainsFunc(res.Contents, func(o listObject) bool { return o.Key != under }) {
		err = blob.Errorf(blob.ErrInvalidArgument, "s3: %s cannot store %q while objects exist under %q: it keeps objects as files, and a folder cannot also be an object there; refused before any data was sent (escape_keys=true stores both)", d.c.serverName(p), key, under)
	}
	return err
}

// subfolders lists folder ("" or ending in "/") with delimiter "/", one
// page of folderPage entries: its subfolders, and whether it has more.
func (d *driver) subfolders(ctx context.Context, folder string) ([]string, bool, error) {
	q := url.Values{"list-type": {"2"}, "delimiter": {"/"}, "encoding-type": {"url"}, "max-keys": {strconv.Itoa(folderPage)}}
	if folder != "" {
		q.Set("prefix", folder)
	}
	_, body, err := d.c.doRead(ctx, &Request{Method: http.MethodGet, Bucket: d.name, Query: q})
	if err != nil {
		return nil, false, err
	}
	page, err := parseList(body, func(s string) (string, bool) { return s, true })
	if err != nil {
		return nil, false, err
	}
	return page.Prefixes, page.NextPageToken != "", nil
}

// maxSegment is the longest path segment of a stored name under EscapeKeys
// (a file name on the server's disk).
const maxSegment = 255

// unk is the key a stored name holds; false for names k never makes.
func (d *driver) unk(name string) (string, bool) {
	if !d.esc {
		return name, true
	}
	return unescapeKey(name)
}

// As reaches the *Client: target must be a **Client.
func (d *driver) As(target any) bool {
	if p, ok := target.(**Client); ok {
		*p = d.c
		return true
	}
	return false
}

func (d *driver) Close() error { return nil }

func (d *driver) Attributes(ctx context.Context, key string) (*blob.Attributes, error) {
	key, err := d.k(key)
	if err != nil {
		return nil, err
	}
	return d.attributes(ctx, key, nil)
}

// attributes HEADs the stored name key, with enc's customer key if any.
func (d *driver) attributes(ctx context.Context, key string, enc *blob.Encryption) (*blob.Attributes, error) {
	rh := http.Header{"X-Amz-Checksum-Mode": {"ENABLED"}}
	customerKeyHeaders(rh, enc)
	h, _, err := d.c.doRead(ctx, &Request{Method: http.MethodHead, Bucket: d.name, Key: key, Header: rh})
	if err != nil {
		return nil, customerKeyError(err, enc != nil)
	}
	a := attributesFrom(h)
	a.Checksums = checksumsFrom(h, a.MD5)
	a.Encryption = encryptionFrom(h)
	if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil {
		a.Size = n
	}
	if n, _ := strconv.Atoi(h.Get("X-Amz-Tagging-Count")); n > 0 {
		if a.Tags, err = d.c.objectTags(ctx, d.name, key); err != nil {
			return nil, annotate(err, "GetObjectTagging")
		}
	}
	return a, nil
}

// tagging is the body of GetObjectTagging.
type tagging struct {
	Tags []struct {
		Key   string `xml:"Key"`
		Value string `xml:"Value"`
	} `xml:"TagSet>Tag"`
}

// objectTags fetches key's tags (GetObjectTagging).
func (c *Client) objectTags(ctx context.Context, bucket, key string) (map[string]string, error) {
	_, body, err := c.doRead(ctx, &Request{Method: http.MethodGet, Bucket: bucket, Key: key, Query: url.Values{"tagging": {""}}})
	if err != nil {
		return nil, err
	}
	var t tagging
	if err := xml.Unmarshal(body, &t); err != nil {
		return nil, blob.Errorf(blob.ErrInternal, "s3: GetObjectTagging: malformed answer: %v", err)
	}
	if len(t.Tags) == 0 {
		return nil, nil
	}
	tags := make(map[string]string, len(t.Tags))
	for _, kv := range t.Tags {
		tags[kv.Key] = kv.Value
	}
	return tags, nil
}

// tagHeader is the x-amz-tagging value of tags: a URL query string.
func tagHeader(tags map[string]string) string {
	v := url.Values{}
	for k, val := range tags {
		v.Set(k, val)
	}
	return strings.ReplaceAll(v.Encode(), "+", "%20")
}

// attributesFrom reads an object's attributes from HEAD or GET headers
// (not its size, which depends on the request).
func attributesFrom(h http.Header) *blob.Attributes {
	a := &blob.Attributes{
		ContentType:        h.Get("Content-Type"),
		ContentEncoding:    h.Get("Content-Encoding"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage:    h.Get("Content-Language"),
		CacheControl:       h.Get("Cache-Control"),
		Metadata:           metadataFrom(h),
		ETag:               h.Get("ETag"),
		StorageClass:       h.Get("X-Amz-Storage-Class"),
	}
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		a.ModTime = t.UTC()
	}
	sse := h.Get("X-Amz-Server-Side-Encryption")
	if h.Get("X-Amz-Server-Side-Encryption-Customer-Algorithm") != "" {
		sse = "customer" // the ETag of an SSE-C object is no MD5 of its content
	}
	a.MD5 = md5FromETag(a.ETag, sse)
	return a
}

// md5FromETag returns the MD5 a single-part, non-KMS object's ETag is.
func md5FromETag(etag, sse string) []byte {
	if strings.HasPrefix(sse, "aws:kms") || sse == "customer" {
		return nil
	}
	s := strings.Trim(etag, `"`)
	if len(s) != 32 {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

func (d *driver) Delete(ctx context.Context, key string) error {
	key, err := d.k(key)
	if err != nil {
		return err
	}
	_, _, err = d.c.doRead(ctx, &Request{Method: http.MethodDelete, Bucket: d.name, Key: key})
	return err
}

type deleteRequest struct {
	XMLName xml.Name       `xml:"Delete"`
	Quiet   bool           `xml:"Quiet"`
	Objects []deleteObject `xml:"Object"`
}

type deleteObject struct {
	Key string `xml:"Key"`
}

type deleteResult struct {
	Errors []struct {
		Key     string `xml:"Key"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
}

// maxDeleteKeys is the most keys one DeleteObjects request takes.
const maxDeleteKeys = 1000

// DeleteKeys deletes keys with DeleteObjects, 1000 at a time. Keys XML 1.0
// cannot carry (control characters) are deleted one by one.
func (d *driver) DeleteKeys(ctx context.Context, keys []string) error {
	var first error
	note := func(err error) {
		if err != nil && first == nil && kind(err) != blob.ErrNotFound {
			first = err
		}
	}
	var batch []string
	for _, k := range keys {
		if s, err := d.k(k); err != nil || !xmlSafe(s) {
			note(d.Delete(ctx, k))
			continue
		}
		batch = append(batch, k)
	}
	for len(batch) > 0 && ctx.Err() == nil {
		n := min(len(batch), maxDeleteKeys)
		note(d.deleteBatch(ctx, batch[:n]))
		batch = batch[n:]
	}
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func (d *driver) deleteBatch(ctx context.Context, keys []string) error {
	req := deleteRequest{Quiet: true}
	for _, k := range keys {
		s, _ := d.k(k) // checked by DeleteKeys
		req.Objects = append(req.Objects, deleteObject{Key: s})
	}
	body, err := xml.Marshal(req)
	if err != nil {
		return blob.Errorf(blob.ErrInvalidArgument, "s3: DeleteObjects: %v", err)
	}
	h := http.Header{"Content-Md5": {contentMD5(body)}, "Content-Type": {"application/xml"}}
	_, resp, err := d.c.doRead(ctx, &Request{Method: http.MethodPost, Bucket: d.name, Query: url.Values{"delete": {""}}, Header: h, Body: body})
	if err != nil {
		return err
	}
	var res deleteResult
	if err := xml.Unmarshal(resp, &res); err != nil {
		return blob.Errorf(blob.ErrInternal, "s3: DeleteObjects: unreadable response: %v", err)
	}
	for _, e := range res.Errors {
		if e.Code == "NoSuchKey" {
			continue
		}
		// The batch answered 200; the failure of one key is in its body.
		s3err := &Error{Status: http.StatusOK, Code: e.Code, Message: e.Message, Resource: e.Key}
		key, _ := d.unk(e.Key)
		return &blob.Error{Kind: kindOf(s3err), Code: e.Code, Key: key, Err: s3err}
	}
	return nil
}

// contentMD5 is the Content-MD5 header value of b.
func contentMD5(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// xmlSafe reports whether s holds only characters XML 1.0 can carry.
func xmlSafe(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF || r >= 0xD800 && r <= 0xDFFF {
			return false
		}
	}
	return true
}

type listResult struct {
	IsTruncated           bool         `xml:"IsTruncated"`
	NextContinuationToken string       `xml:"NextContinuationToken"`
	EncodingType          string       `xml:"EncodingType"`
	Contents              []listObject `xml:"Contents"`
	CommonPrefixes        []struct {
		Prefix string `xml:"Prefix"`
	} `xml:"CommonPrefixes"`
}

type listObject struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
}

func (d *driver) List(ctx context.Context, opts *blob.ListOptions) (*blob.ListPage, error) {
	q := url.Values{
		"list-type":     {"2"},
		"encoding-type": {"url"},
		"max-keys":      {strconv.Itoa(opts.PageSize)},
	}
	if opts.Prefix != "" || d.esc {
		prefix := opts.Prefix
		if d.esc {
			prefix = escapeKey(prefix, false)
		}
		q.Set("prefix", prefix)
	}
	if opts.Delimiter != "" {
		delim := opts.Delimiter
		if d.esc {
			if strings.Contains(delim, EscapeMarker) {
				return nil, blob.Errorf(blob.ErrInvalidArgument, "s3: with EscapeKeys, a list delimiter cannot contain %q", EscapeMarker)
			}
			delim = escapeDelimiter(delim)
		}
		q.Set("delimiter", delim)
	}
	if opts.PageToken != "" {
		q.Set("continuation-token", opts.PageToken)
	}
	req := &Request{Method: http.MethodGet, Bucket: d.name, Query: q}
	if err := blob.CallHook(opts.BeforeList, blob.NativeAs(req)); err != nil {
		return nil, err
	}
	_, body, err := d.c.doRead(ctx, req)
	if err != nil {
		return nil, err
	}
	return parseList(body, d.unk)
}

// parseList reads one ListObjectsV2 answer into a page: keys URL-decoded
// when the answer says so, and turned back into keys by unk (names unk
// does not know are dropped).
func parseList(body []byte, unk func(string) (string, bool)) (*blob.ListPage, error) {
	var res listResult
	if err := xml.Unmarshal(body, &res); err != nil {
		return nil, blob.Errorf(blob.ErrInternal, "s3: ListObjectsV2: unreadable response: %v", err)
	}
	dec := func(s string) (string, error) { return s, nil }
	if strings.EqualFold(res.EncodingType, "url") {
		dec = url.QueryUnescape
	}
	page := &blob.ListPage{}
	for _, o := range res.Contents {
		k, err := dec(o.Key)
		if err != nil {
			return nil, blob.Errorf(blob.ErrInternal, "s3: ListObjectsV2: bad key encoding %q: %v", o.Key, err)
		}
		k, ok := unk(k)
		if !ok {
			continue
		}
		info := blob.ObjectInfo{Key: k, Size: o.Size, ETag: o.ETag}
		if t, err := time.Parse(time.RFC3339Nano, o.LastModified); err == nil {
			// HEAD's Last-Modified has whole seconds: report the same.
			info.ModTime = t.UTC().Truncate(time.Second)
		}
		page.Objects = append(page.Objects, info)
	}
	for _, p := range res.CommonPrefixes {
		s, err := dec(p.Prefix)
		if err != nil {
			return nil, blob.Errorf(blob.ErrInternal, "s3: ListObjectsV2: bad prefix encoding %q: %v", p.Prefix, err)
		}
		if s, ok := unk(s); ok {
			page.Prefixes = append(page.Prefixes, s)
		}
	}
	if res.IsTruncated {
		if res.NextContinuationToken == "" {
			return nil, blob.Errorf(blob.ErrInternal, "s3: ListObjectsV2: truncated page without a continuation token")
		}
		page.NextPageToken = res.NextContinuationToken
	}
	return page, nil
}

// writeHeaders sets the content headers and metadata of a new object.
func writeHeaders(h http.Header, contentType, encoding, disposition, language, cacheControl string, md map[string]string) {
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set("Content-Type", contentType)
	set("Content-Encoding", encoding)
	set("Content-Disposition", disposition)
	set("Content-Language", language)
	set("Cache-Control", cacheControl)
	setMetadata(h, md)
}

// conditionalHeaders sets If-None-Match: * or If-Match for a write.
func conditionalHeaders(h http.Header, ifNotExist bool, ifMatch string) {
	if ifNotExist {
		h.Set("If-None-Match", "*")
	}
	if ifMatch != "" {
		h.Set("If-Match", ifMatch)
	}
}

func emptyBody() io.ReadCloser { return io.NopCloser(bytes.NewReader(nil)) }
