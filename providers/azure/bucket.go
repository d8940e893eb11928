package azure

import (
	"context"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/anyblob/anyblob/blob"
)

// driver is the blob.Driver of one container. NewRangeReader is in
// reader.go, NewWriter in writer.go, SignedURL in signedurl.go.
type driver struct {
	c    *Client
	cc   *container.Client
	name string
	owns bool // Close closes c (OpenBucket)
}

var _ blob.Driver = (*driver)(nil)

// etag returns an ETag in the quoted form every method exposes.
func etag(e *azcore.ETag) string {
	if e == nil {
		return ""
	}
	s := string(*e)
	if !strings.HasPrefix(s, `"`) {
		s = `"` + s + `"`
	}
	return s
}

func (d *driver) Attributes(ctx context.Context, key string) (*blob.Attributes, error) {
	p, err := d.cc.NewBlobClient(stored(key)).GetProperties(ctx, nil)
	if err != nil {
		return nil, err
	}
	md, err := decodeMetadata(p.Metadata)
	if err != nil {
		return nil, err
	}
	a := &blob.Attributes{
		Size: deref(p.ContentLength), ContentType: deref(p.ContentType), ContentEncoding: deref(p.ContentEncoding),
		ContentDisposition: deref(p.ContentDisposition), ContentLanguage: deref(p.ContentLanguage),
		CacheControl: deref(p.CacheControl), Metadata: md, ModTime: deref(p.LastModified),
		ETag: etag(p.ETag), MD5: p.ContentMD5, StorageClass: deref(p.AccessTier),
		Encryption: encryptionInfo(p.EncryptionKeySHA256, p.EncryptionScope),
	}
	if p.ContentMD5 != nil {
		a.Checksums = map[blob.ChecksumAlgorithm][]byte{blob.ChecksumMD5: p.ContentMD5}
	}
	if deref(p.TagCount) > 0 {
		tr, err := d.cc.NewBlobClient(stored(key)).GetTags(ctx, nil)
		if err != nil {
			return nil, err
		}
		a.Tags = map[string]string{}
		for _, t := range tr.BlobTagSet {
			a.Tags[deref(t.Key)] = deref(t.Value)
		}
	}
	return a, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (d *driver) List(ctx context.Context, opts *blob.ListOptions) (*blob.ListPage, error) {
	var marker *string
	if opts.PageToken != "" {
		marker = &opts.PageToken
	}
	max := int32(opts.PageSize)
	page := &blob.ListPage{}
	var prefix *string
	if opts.Prefix != "" {
		p := stored(opts.Prefix)
		prefix = &p
	}
	if opts.Delimiter == "" {
		lo := &container.ListBlobsFlatOptions{Prefix: prefix, Marker: marker, MaxResults: &max}
		if err := blob.CallHook(opts.BeforeList, blob.NativeAs(lo)); err != nil {
			return nil, err
		}
		resp, err := d.cc.NewListBlobsFlatPager(lo).NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range resp.Segment.BlobItems {
			page.Objects = append(page.Objects, objectInfo(it))
		}
		page.NextPageToken = deref(resp.NextMarker)
		return page, nil
	}
	ho := &container.ListBlobsHierarchyOptions{Prefix: prefix, Marker: marker, MaxResults: &max}
	if err := blob.CallHook(opts.BeforeList, blob.NativeAs(ho)); err != nil {
		return nil, err
	}
	resp, err := d.cc.NewListBlobsHierarchyPager(stored(opts.Delimiter), ho).NextPage(ctx)
	if err != nil {
		return nil, err
	}
	for _, it := range resp.Segment.BlobItems {
		page.Objects = append(page.Objects, objectInfo(it))
	}
	for _, p := range resp.Segment.BlobPrefixes {
		page.Prefixes = append(page.Prefixes, keyOf(deref(p.Name)))
	}
	page.NextPageToken = deref(resp.NextMarker)
	return page, nil
}

func objectInfo(it *container.BlobItem) blob.ObjectInfo {
	o := blob.ObjectInfo{Key: keyOf(deref(it.Name))}
	if p := it.Properties; p != nil {
		o.Size, o.ModTime, o.ETag = deref(p.ContentLength), deref(p.LastModified), etag(p.ETag)
	}
	return o
}

func (d *driver) Delete(ctx context.Context, key string) error {
	_, err := d.cc.NewBlobClient(stored(key)).Delete(ctx, nil)
	return err
}

// copyPoll is how often Copy checks an asynchronous copy.
const copyPoll = 200 * time.Millisecond

// Copy starts a server-side copy and waits for it. Within one account the
// service usually copies at once; when it reports "pending", Copy polls
// until the copy succeeds, and fails with the service's status
// description when it is aborted or fails, or when ctx ends (the copy is
// then aborted).
func (d *driver) Copy(ctx context.Context, dstKey, srcKey string, opts *blob.CopyOptions) error {
	if e := opts.Encryption; opts.SourceEncryption != nil || e != nil && (e.CustomerKey != nil || e.Scope != "") {
		return blob.Errorf(blob.ErrNotImplemented, "azblob: Copy Blob cannot read a blob with a customer-provided key, nor write one with a key or an encryption scope of its own; read it and write it instead")
	}
	if _, _, err := encryption(opts.Encryption); err != nil {
		return err
	}
	src := d.cc.NewBlobClient(stored(srcKey))
	sp, err := src.GetProperties(ctx, nil)
	if err != nil {
		return err
	}
	dst := d.cc.NewBlobClient(stored(dstKey))
	so := &azblobblob.StartCopyFromURLOptions{}
	srcETag := *sp.ETag
	so.SourceModifiedAccessConditions = &azblobblob.SourceModifiedAccessConditions{SourceIfMatch: &srcETag}
	if opts.IfNotExist {
		any := azcore.ETagAny
		so.AccessConditions = &azblobblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{IfNoneMatch: &any}}
	}
	if opts.StorageClass != "" {
		tier := azblobblob.AccessTier(opts.StorageClass)
		so.Tier = &tier
	}
	if deref(sp.TagCount) > 0 {
		// A copy keeps the source's tags, as on S3; Copy Blob does not
		// copy them on its own.
		tr, err := src.GetTags(ctx, nil)
		if err != nil {
			return err
		}
		so.BlobTags = map[string]string{}
		for _, t := range tr.BlobTagSet {
			so.BlobTags[deref(t.Key)] = deref(t.Value)
		}
	}
	replaceMD := opts.Metadata != nil
	if replaceMD && len(opts.Metadata) > 0 {
		md, err := encodeMetadata(opts.Metadata)
		if err != nil {
			return err
		}
		so.Metadata = md
	}
	if err := blob.CallHook(opts.BeforeCopy, blob.NativeAs(so)); err != nil {
		return err
	}
	resp, err := dst.StartCopyFromURL(ctx, src.URL(), so)
	if err != nil {
		return err
	}
	if err := waitCopy(ctx, dst, deref(resp.CopyStatus), deref(resp.CopyID)); err != nil {
		return err
	}
	if replaceMD && len(opts.Metadata) == 0 {
		if _, err := dst.SetMetadata(ctx, map[string]*string{}, nil); err != nil {
			return err
		}
	}
	if opts.ContentType != "" {
		h := azblobblob.HTTPHeaders{
			BlobContentType: &opts.ContentType, BlobContentEncoding: sp.ContentEncoding,
			BlobContentDisposition: sp.ContentDisposition, BlobContentLanguage: sp.ContentLanguage,
			BlobCacheControl: sp.CacheControl, BlobContentMD5: sp.ContentMD5,
		}
		if _, err := dst.SetHTTPHeaders(ctx, h, nil); err != nil {
			return err
		}
	}
	return nil
}

// waitCopy polls dst while the copy id is pending: nil when it succeeds,
// ErrInternal with the service's description when it fails or is aborted,
// ctx's error (after aborting the copy) when ctx ends.
func waitCopy(ctx context.Context, dst *azblobblob.Client, status azblobblob.CopyStatusType, id string) error {
	for status == azblobblob.CopyStatusTypePending {
		select {
		case <-ctx.Done():
			_, _ = dst.AbortCopyFromURL(context.WithoutCancel(ctx), id, nil)
			return ctx.Err()
		case <-time.After(copyPoll):
		}
		p, err := dst.GetProperties(ctx, nil)
		if err != nil {
			return err
		}
		status = deref(p.CopyStatus)
		if status != azblobblob.CopyStatusTypePending && status != azblobblob.CopyStatusTypeSuccess {
			return blob.Errorf(blob.ErrInternal, "azblob: copy %s: %s", status, deref(p.CopyStatusDescription))
		}
	}
	if status != azblobblob.CopyStatusTypeSuccess {
		return blob.Errorf(blob.ErrInternal, "azblob: copy ended %q", status)
	}
	return nil
}

// Close closes the Client when the bucket owns it (OpenBucket).
func (d *driver) Close() error {
	if d.owns {
		return d.c.Close()
	}
	return nil
}

// As exposes **Client and **container.Client.
func (d *driver) As(target any) bool {
	switch p := target.(type) {
	case **Client:
		*p = d.c
	case **container.Client:
		*p = d.cc
	default:
		return false
	}
	return true
}
