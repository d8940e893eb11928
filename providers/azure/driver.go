package azure

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/anyblob/anyblob/blob"
)

// NewRangeReader reads with one Get Blob: one request reads one version,
// and its response describes the whole blob (Content-Range gives the
// total size). IfMatch goes on that request. A range starting at or past
// the end (416 InvalidRange) and a zero length look at the properties
// instead and read nothing.
func (d *driver) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *blob.ReaderOptions) (blob.Reader, error) {
	bc := d.cc.NewBlobClient(stored(key))
	var ac *azblobblob.AccessConditions
	if opts.IfMatch != "" {
		e := azcore.ETag(opts.IfMatch)
		ac = &azblobblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{IfMatch: &e}}
	}
	empty := func() (blob.Reader, error) {
		p, err := bc.GetProperties(ctx, &azblobblob.GetPropertiesOptions{AccessConditions: ac})
		if err != nil {
			return nil, err
		}
		return &reader{attrs: blob.ReaderAttrs{
			Size: deref(p.ContentLength), ContentType: deref(p.ContentType), ModTime: deref(p.LastModified), ETag: etag(p.ETag),
		}}, nil
	}
	if length == 0 {
		return empty()
	}
	o := &azblobblob.DownloadStreamOptions{
		Range:            azblobblob.HTTPRange{Offset: offset}, // 0 and 0: no Range header, a plain full read
		AccessConditions: ac,
	}
	if length > 0 {
		o.Range.Count = length
	}
	resp, err := bc.DownloadStream(ctx, o)
	if err != nil {
		if bloberrorCode(err) == "InvalidRange" {
			return empty()
		}
		return nil, err
	}
	size := deref(resp.ContentLength)
	if cr := deref(resp.ContentRange); cr != "" {
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				size = n
			}
		}
	}
	return &reader{body: resp.Body, resp: &resp, attrs: blob.ReaderAttrs{
		Size: size, ContentType: deref(resp.ContentType), ModTime: deref(resp.LastModified), ETag: etag(resp.ETag),
	}}, nil
}

type reader struct {
	body  io.ReadCloser // nil for an empty read
	resp  *azblobblob.DownloadStreamResponse
	attrs blob.ReaderAttrs
}

func (r *reader) Read(p []byte) (int, error) {
	if r.body == nil {
		return 0, io.EOF
	}
	return r.body.Read(p)
}

func (r *reader) Close() error {
	if r.body == nil {
		return nil
	}
	return r.body.Close()
}

func (r *reader) Attrs() blob.ReaderAttrs { return r.attrs }

// As exposes **azblobblob.DownloadStreamResponse.
func (r *reader) As(target any) bool {
	if p, ok := target.(**azblobblob.DownloadStreamResponse); ok && r.resp != nil {
		*p = r.resp
		return true
	}
	return false
}

func (d *driver) NewWriter(ctx context.Context, key string, opts *blob.WriterOptions) (blob.Writer, error) {
	part := opts.PartSize
	if part == 0 {
		part = DefaultPartSize
	}
	part = min(part, MaxBlockSize)
	conc := opts.Concurrency
	if conc == 0 {
		conc = DefaultConcurrency
	}
	md, err := encodeMetadata(opts.Metadata)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &writer{
		ctx: ctx, cancel: cancel, bb: d.cc.NewBlockBlobClient(stored(key)), part: int(part), conc: conc,
		headers: azblobblob.HTTPHeaders{
			BlobContentType:        nonEmpty(opts.ContentType, "application/octet-stream"),
			BlobContentEncoding:    nonEmpty(opts.ContentEncoding, ""),
			BlobContentDisposition: nonEmpty(opts.ContentDisposition, ""),
			BlobContentLanguage:    nonEmpty(opts.ContentLanguage, ""),
			BlobCacheControl:       nonEmpty(opts.CacheControl, ""),
		},
		metadata: md,
		sem:      make(chan struct{}, conc),
	}
	w.free = make(chan []byte, conc)
	switch {
	case opts.IfNotExist:
		any := azcore.ETagAny
		w.cond = &azblobblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{IfNoneMatch: &any}}
	case opts.IfMatch != "":
		e := azcore.ETag(opts.IfMatch)
		w.cond = &azblobblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{IfMatch: &e}}
	}
	return w, nil
}

func nonEmpty(s, def string) *string {
	if s == "" {
		s = def
	}
	if s == "" {
		return nil
	}
	return &s
}

// writer buffers one part; full parts are staged as blocks in the
// background, at most conc at once, their buffers recycled.
type writer struct {
	ctx      context.Context
	cancel   context.CancelFunc
	bb       *blockblob.Client
	part     int
	conc     int
	headers  azblobblob.HTTPHeaders
	metadata map[string]*string
	cond     *azblobblob.AccessConditions

	buf  []byte
	ids  []string
	sem  chan struct{}
	free chan []byte
	wg   sync.WaitGroup

	mu  sync.Mutex
	err error // first staging error
}

func (w *writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *writer) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if err := w.failed(); err != nil {
			return n, err
		}
		if w.buf == nil {
			select {
			case b := <-w.free:
				w.buf = b[:0]
			default:
				w.buf = make([]byte, 0, w.part)
			}
		}
		c := min(len(p), w.part-len(w.buf))
		w.buf = append(w.buf, p[:c]...)
		p, n = p[c:], n+c
		if len(w.buf) == w.part {
			if err := w.stage(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// stage sends the buffered part as the next block.
func (w *writer) stage() error {
	if len(w.ids) >= MaxBlocks {
		return blob.Errorf(blob.ErrInvalidArgument, "azblob: more than %d blocks of %d bytes; raise PartSize", MaxBlocks, w.part)
	}
	var raw [8]byte
	binary.BigEndian.PutUint64(raw[:], uint64(len(w.ids)))
	id := base64.StdEncoding.EncodeToString(append([]byte("anyblob-"), raw[:]...))
	w.ids = append(w.ids, id)
	data := w.buf
	w.buf = nil
	select {
	case w.sem <- struct{}{}:
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.sem }()
		_, err := w.bb.StageBlock(w.ctx, id, streaming.NopCloser(bytes.NewReader(data)), nil)
		select {
		case w.free <- data:
		default:
		}
		if err != nil {
			w.mu.Lock()
			if w.err == nil {
				w.err = err
			}
			w.mu.Unlock()
			w.cancel()
		}
	}()
	return nil
}

func (w *writer) Close() error {
	defer w.cancel()
	if len(w.ids) == 0 {
		// One request: Put Blob with the conditions.
		_, err := w.bb.Upload(w.ctx, streaming.NopCloser(bytes.NewReader(w.buf)), &blockblob.UploadOptions{
			HTTPHeaders: &w.headers, Metadata: w.metadata, AccessConditions: w.cond,
		})
		return err
	}
	if len(w.buf) > 0 {
		if err := w.stage(); err != nil {
			w.wg.Wait()
			return err
		}
	}
	w.wg.Wait()
	if err := w.failed(); err != nil {
		return err
	}
	_, err := w.bb.CommitBlockList(w.ctx, w.ids, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &w.headers, Metadata: w.metadata, AccessConditions: w.cond,
	})
	return err
}

// Abort cancels staging; nothing is committed.
func (w *writer) Abort(error) error {
	w.cancel()
	w.wg.Wait()
	return nil
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
	return &blob.Attributes{
		Size: deref(p.ContentLength), ContentType: deref(p.ContentType), ContentEncoding: deref(p.ContentEncoding),
		ContentDisposition: deref(p.ContentDisposition), ContentLanguage: deref(p.ContentLanguage),
		CacheControl: deref(p.CacheControl), Metadata: md, ModTime: deref(p.LastModified),
		ETag: etag(p.ETag), MD5: p.ContentMD5,
	}, nil
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
		resp, err := d.cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: prefix, Marker: marker, MaxResults: &max}).NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range resp.Segment.BlobItems {
			page.Objects = append(page.Objects, objectInfo(it))
		}
		page.NextPageToken = deref(resp.NextMarker)
		return page, nil
	}
	resp, err := d.cc.NewListBlobsHierarchyPager(stored(opts.Delimiter), &container.ListBlobsHierarchyOptions{Prefix: prefix, Marker: marker, MaxResults: &max}).NextPage(ctx)
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
	replaceMD := opts.Metadata != nil
	if replaceMD && len(opts.Metadata) > 0 {
		md, err := encodeMetadata(opts.Metadata)
		if err != nil {
			return err
		}
		so.Metadata = md
	}
	resp, err := dst.StartCopyFromURL(ctx, src.URL(), so)
	if err != nil {
		return err
	}
	status, id := deref(resp.CopyStatus), deref(resp.CopyID)
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

func (d *driver) SignedURL(ctx context.Context, key string, opts *blob.SignedURLOptions) (string, error) {
	var perms sas.BlobPermissions
	switch opts.Method {
	case http.MethodGet:
		perms.Read = true
	case http.MethodPut:
		perms.Create, perms.Write = true, true
	case http.MethodDelete:
		perms.Delete = true
	}
	start := time.Now().UTC().Add(-5 * time.Minute) // tolerate clock skew
	v := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		StartTime:     start,
		ExpiryTime:    time.Now().UTC().Add(opts.Expiry),
		Permissions:   perms.String(),
		ContainerName: d.name,
		BlobName:      stored(key),
	}
	if opts.ContentType != "" {
		v.ContentType = opts.ContentType
	}
	var qp sas.QueryParameters
	var err error
	switch {
	case d.sharedKey != nil:
		qp, err = v.SignWithSharedKey(d.sharedKey)
	case d.userDelegation:
		var udc *service.UserDelegationCredential
		udc, err = d.sc.GetUserDelegationCredential(ctx, service.KeyInfo{
			Start: to.Ptr(start.Format(sas.TimeFormat)), Expiry: to.Ptr(v.ExpiryTime.Format(sas.TimeFormat)),
		}, nil)
		if err != nil {
			return "", err
		}
		qp, err = v.SignWithUserDelegation(udc)
	default:
		return "", blob.Errorf(blob.ErrNotImplemented, "azblob: a container opened with a SAS token cannot sign URLs")
	}
	if err != nil {
		return "", fmt.Errorf("azblob: signing: %w", err)
	}
	return d.cc.NewBlobClient(stored(key)).URL() + "?" + qp.Encode(), nil
}

func (d *driver) Close() error { return nil }

// As exposes **container.Client.
func (d *driver) As(target any) bool {
	if p, ok := target.(**container.Client); ok {
		*p = d.cc
		return true
	}
	return false
}
