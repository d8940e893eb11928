package aws

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/anyblob/anyblob/blob"
)

// Copy copies on the server. With IfNotExist it always takes the multipart
// path, whose CompleteMultipartUpload carries If-None-Match: * atomically.
// The source is read first (HEAD, with its customer key when it has one)
// for its size and ETag; the copy is pinned to that ETag (x-amz-copy-source-if-match),
// so a source replaced meanwhile fails the copy with ErrPreconditionFailed
// instead of mixing versions. Sources up to 5 GiB take one CopyObject;
// larger ones a multipart upload of UploadPartCopy parts, aborted on
// failure.
func (d *driver) Copy(ctx context.Context, dst, src string, opts *blob.CopyOptions) error {
	dst, err := d.writeKey(ctx, dst, opts.IfNotExist)
	if err != nil {
		return err
	}
	if err := sseHeaders(http.Header{}, opts.Encryption, false); err != nil {
		return err
	}
	if src, err = d.k(src); err != nil {
		return err
	}
	sa, err := d.attributes(ctx, src, opts.SourceEncryption)
	if err != nil {
		return err
	}
	// What the copy's headers are: the source's, with the options' changes.
	a := *sa
	replace := opts.Metadata != nil || opts.ContentType != ""
	if opts.Metadata != nil {
		a.Metadata = opts.Metadata
	}
	if opts.ContentType != "" {
		a.ContentType = opts.ContentType
	}
	if sa.Size > d.c.copyThreshold || opts.IfNotExist {
		// CopyObject ignores If-None-Match on some servers (MinIO);
		// CompleteMultipartUpload honours it, atomically.
		return d.wrote(dst, d.multipartCopy(ctx, dst, src, &a, opts))
	}
	h := http.Header{}
	h.Set("X-Amz-Copy-Source", d.copySource(src))
	h.Set("X-Amz-Copy-Source-If-Match", sa.ETag)
	if replace {
		h.Set("X-Amz-Metadata-Directive", "REPLACE")
		writeHeaders(h, a.ContentType, a.ContentEncoding, a.ContentDisposition, a.ContentLanguage, a.CacheControl, a.Metadata)
	}
	if opts.StorageClass != "" {
		h.Set("X-Amz-Storage-Class", opts.StorageClass)
	}
	_ = sseHeaders(h, opts.Encryption, false)
	_ = sseHeaders(h, opts.SourceEncryption, true)
	conditionalHeaders(h, opts.IfNotExist, "")
	req := &Request{Method: http.MethodPut, Bucket: d.name, Key: dst, Header: h}
	if err := blob.CallHook(opts.BeforeCopy, blob.NativeAs(req)); err != nil {
		return err
	}
	_, _, err = d.c.doRead(ctx, req)
	return d.wrote(dst, err)
}

// copySource is the x-amz-copy-source value for key in this bucket.
func (d *driver) copySource(key string) string {
	return "/" + d.name + "/" + escapePath(key)
}

type copyPartResult struct {
	ETag string `xml:"ETag"`
}

func (d *driver) multipartCopy(ctx context.Context, dst, src string, a *blob.Attributes, opts *blob.CopyOptions) error {
	ifNotExist := opts.IfNotExist
	ranges, err := planCopy(a.Size, d.c.copyPartSize)
	if err != nil {
		return err
	}
	h := http.Header{}
	writeHeaders(h, a.ContentType, a.ContentEncoding, a.ContentDisposition, a.ContentLanguage, a.CacheControl, a.Metadata)
	if opts.StorageClass != "" {
		h.Set("X-Amz-Storage-Class", opts.StorageClass)
	}
	if len(a.Tags) > 0 {
		h.Set("X-Amz-Tagging", tagHeader(a.Tags)) // CopyObject copies them; parts do not
	}
	_ = sseHeaders(h, opts.Encryption, false)
	req := &Request{Method: http.MethodPost, Bucket: d.name, Key: dst, Query: url.Values{"uploads": {""}}, Header: h}
	if err := blob.CallHook(opts.BeforeCopy, blob.NativeAs(req)); err != nil {
		return err
	}
	id, err := d.c.createUpload(ctx, req)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := make([]completedPart, len(ranges))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, d.c.conc)
	for i, r := range ranges {
		sem <- struct{}{}
		if pctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ph := http.Header{}
			ph.Set("X-Amz-Copy-Source", d.copySource(src))
			ph.Set("X-Amz-Copy-Source-If-Match", a.ETag)
			customerKeyHeaders(ph, opts.Encryption)
			_ = sseHeaders(ph, opts.SourceEncryption, true)
			if r.last >= r.first {
				ph.Set("X-Amz-Copy-Source-Range", r.String())
			}
			q := url.Values{"partNumber": {strconv.Itoa(i + 1)}, "uploadId": {id}}
			_, body, err := d.c.doRead(pctx, &Request{Method: http.MethodPut, Bucket: d.name, Key: dst, Query: q, Header: ph})
			var cr copyPartResult
			if err == nil && (xml.Unmarshal(body, &cr) != nil || cr.ETag == "") {
				err = blob.Errorf(blob.ErrInternal, "s3: UploadPartCopy: no ETag in the response")
			}
			if err != nil {
				mu.Lock()
				if first == nil {
					first = annotate(err, fmt.Sprintf("copy part %d (%s)", i+1, r))
					cancel()
				}
				mu.Unlock()
				return
			}
			parts[i] = completedPart{PartNumber: i + 1, ETag: cr.ETag}
		}()
	}
	wg.Wait()
	err = first
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err == nil {
		err = d.c.completeUpload(ctx, d.name, dst, id, parts, ifNotExist, "", "", "", opts.Encryption)
	}
	if err != nil {
		_ = d.c.abortUpload(context.WithoutCancel(ctx), d.name, dst, id)
		return err
	}
	return nil
}
