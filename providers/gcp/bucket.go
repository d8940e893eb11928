package gcp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/pager"
)

// driver is the blob.Driver of one bucket. NewRangeReader is in reader.go,
// NewWriter in writer.go, SignedURL in signedurl.go.
type driver struct {
	c    *Client
	bkt  *storage.BucketHandle
	name string
	owns bool // Close closes the client (OpenBucket)
}

var _ blob.Driver = (*driver)(nil)

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

// object is key's handle for calls made with ctx: its retries follow the
// shared policy and stop at ctx's deadline (see Client.shouldRetry).
// Object copies the bucket's retry settings, so the decision added here
// is the handle's own.
func (d *driver) object(ctx context.Context, key string) *storage.ObjectHandle {
	return d.bkt.Object(key).Retryer(d.c.shouldRetry(ctx))
}

// bucketFor is a bucket handle for calls made with ctx. It is made afresh:
// BucketHandle.Retryer changes the settings it shares with the handle it
// is called on, so calling it on d.bkt would hand one call's retry
// decision to every other call (and race).
func (d *driver) bucketFor(ctx context.Context) *storage.BucketHandle {
	return d.c.sc.Bucket(d.name).Retryer(append(d.c.retryOptions(), d.c.shouldRetry(ctx))...)
}

func (d *driver) Attributes(ctx context.Context, key string) (*blob.Attributes, error) {
	a, err := d.object(ctx, key).Attrs(ctx)
	if err != nil {
		return nil, err
	}
	crc := binary.BigEndian.AppendUint32(nil, a.CRC32C)
	sums := map[blob.ChecksumAlgorithm][]byte{blob.ChecksumCRC32C: crc}
	if a.MD5 != nil {
		sums[blob.ChecksumMD5] = a.MD5
	}
	return &blob.Attributes{
		Size: a.Size, ContentType: a.ContentType, ContentEncoding: a.ContentEncoding,
		ContentDisposition: a.ContentDisposition, ContentLanguage: a.ContentLanguage,
		CacheControl: a.CacheControl, Metadata: maps.Clone(a.Metadata),
		ModTime: a.Updated, ETag: etagOf(a.Generation), MD5: a.MD5, StorageClass: a.StorageClass,
		Checksums: sums, Encryption: encryptionOf(a),
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
	if err := blob.CallHook(opts.BeforeList, blob.NativeAs(q)); err != nil {
		return nil, err
	}
	var objs []*storage.ObjectAttrs
	// One more than a page tells whether another page follows.
	next, err := iterator.NewPager(d.bucketFor(ctx).Objects(ctx, q), opts.PageSize+1, "").NextPage(&objs)
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
	return d.object(ctx, key).Delete(ctx)
}

// Copy rewrites srcKey into dstKey on the service, call after call until
// a large object is done, pinned to the source generation it first saw.
// The copy always carries a full set of attributes (the source's, with
// opts' replacements), so the result does not depend on the service's
// defaults for a rewrite.
func (d *driver) Copy(ctx context.Context, dstKey, srcKey string, opts *blob.CopyOptions) error {
	if err := checkEncryption(opts.Encryption); err != nil {
		return err
	}
	src := withKey(d.object(ctx, srcKey), opts.SourceEncryption)
	a, err := src.Attrs(ctx)
	if err != nil {
		return err
	}
	dst := d.object(ctx, dstKey)
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
	dst = withKey(dst, opts.Encryption)
	c := dst.CopierFrom(src.Generation(a.Generation))
	if e := opts.Encryption; e != nil && e.KMSKey != "" {
		c.DestinationKMSKeyName = e.KMSKey
	}
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
	c.StorageClass = opts.StorageClass
	if err := blob.CallHook(opts.BeforeCopy, blob.NativeAs(c)); err != nil {
		return err
	}
	_, err = c.Run(ctx)
	return err
}

// Close closes the Client when the bucket owns it (OpenBucket).
func (d *driver) Close() error {
	if d.owns {
		return d.c.Close()
	}
	return nil
}

// As exposes **Client, **storage.Client and **storage.BucketHandle.
func (d *driver) As(target any) bool {
	switch p := target.(type) {
	case **Client:
		*p = d.c
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
