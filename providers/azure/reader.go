package azure

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"hash"
	"io"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/anyblob/anyblob/blob"
)

// NewRangeReader reads with one Get Blob: one request reads one version,
// and its response describes the whole blob (Content-Range gives the
// total size). A body cut short (a reset, a truncation) is resumed from
// the last byte read, up to readRetries times, pinned to the ETag. IfMatch goes on that request. A range starting at or past
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
	ranged := offset > 0 || length > 0
	if ranged && length > 0 && length <= maxRangeMD5 {
		// The service sends the MD5 of a range of up to 4 MiB.
		o.RangeGetContentMD5 = to.Ptr(true)
	}
	if err := blob.CallHook(opts.BeforeRead, blob.NativeAs(o)); err != nil {
		return nil, err
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
	// The SDK's retry reader resumes a body cut short from the byte it
	// reached, pinned to the blob's ETag with If-Match: a blob replaced
	// meanwhile fails the read instead of being stitched together.
	var body io.ReadCloser = resp.NewRetryReader(ctx, &azblobblob.RetryReaderOptions{MaxRetries: readRetries, EarlyCloseAsError: true})
	// Content-MD5 is the whole blob's for a full read, the range's when
	// RangeGetContentMD5 asked for it; a range read without it has none
	// that applies.
	if len(resp.ContentMD5) == md5.Size && (!ranged || o.RangeGetContentMD5 != nil) {
		body = &md5Checked{rc: body, want: resp.ContentMD5, h: md5.New()}
	}
	return &reader{body: body, resp: &resp, attrs: blob.ReaderAttrs{
		Size: size, ContentType: deref(resp.ContentType), ModTime: deref(resp.LastModified), ETag: etag(resp.ETag),
	}}, nil
}

// maxRangeMD5 is the largest range the service sends an MD5 for.
const maxRangeMD5 = 4 << 20

// readRetries is how many times a read cut short is resumed.
const readRetries = 5

// md5Checked verifies a whole blob against the Content-MD5 the service
// sent for it: at the end of the body, a mismatch fails the read with
// ErrInternal instead of io.EOF. The bytes before the end have been handed
// over already; a caller that must not act on bad data reads to the end
// (ReadAll, Download) before using it.
type md5Checked struct {
	rc   io.ReadCloser
	want []byte
	h    hash.Hash
	err  error
}

func (m *md5Checked) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	n, err := m.rc.Read(p)
	m.h.Write(p[:n])
	if err == io.EOF {
		if got := m.h.Sum(nil); !bytes.Equal(got, m.want) {
			m.err = blob.Errorf(blob.ErrInternal, "azblob: checksum mismatch: the blob's Content-MD5 is %s, the data read has %s",
				base64.StdEncoding.EncodeToString(m.want), base64.StdEncoding.EncodeToString(got))
			return n, m.err
		}
	}
	return n, err
}

func (m *md5Checked) Close() error { return m.rc.Close() }

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
