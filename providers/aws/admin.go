package aws

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// CreateBucket creates the bucket name in the client's region. A bucket
// that already exists is ErrPreconditionFailed (S3's BucketAlreadyOwnedByYou
// or BucketAlreadyExists); a bad name is ErrInvalidArgument.
func (c *Client) CreateBucket(ctx context.Context, name string) error {
	if err := validateBucketName(name); err != nil {
		return err
	}
	var body []byte
	if c.region != "us-east-1" {
		body = []byte(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>` + c.region + `</LocationConstraint></CreateBucketConfiguration>`)
	}
	_, _, err := c.doRead(ctx, &Request{Method: http.MethodPut, Bucket: name, Body: body})
	return err
}

// DeleteBucket deletes the empty bucket name. An absent bucket is
// ErrNotFound; one with objects is ErrPreconditionFailed (BucketNotEmpty).
func (c *Client) DeleteBucket(ctx context.Context, name string) error {
	if err := validateBucketName(name); err != nil {
		return err
	}
	_, _, err := c.doRead(ctx, &Request{Method: http.MethodDelete, Bucket: name})
	return err
}

// MultipartUpload is an upload begun and neither completed nor aborted.
type MultipartUpload struct {
	Key       string
	UploadID  string
	Initiated time.Time
}

type listUploadsResult struct {
	IsTruncated        bool   `xml:"IsTruncated"`
	NextKeyMarker      string `xml:"NextKeyMarker"`
	NextUploadIDMarker string `xml:"NextUploadIdMarker"`
	Uploads            []struct {
		Key       string `xml:"Key"`
		UploadID  string `xml:"UploadId"`
		Initiated string `xml:"Initiated"`
	} `xml:"Upload"`
}

// ListMultipartUploads returns every unfinished multipart upload in bucket
// whose key starts with prefix, following S3's pages. It is how callers
// (and this package's tests) check that nothing was left behind. Keys are
// the stored names (escaped under Options.EscapeKeys). Errors are Do's:
// ErrNotFound for a missing bucket, and so on.
func (c *Client) ListMultipartUploads(ctx context.Context, bucket, prefix string) ([]MultipartUpload, error) {
	var out []MultipartUpload
	q := url.Values{"uploads": {""}}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	for {
		_, body, err := c.doRead(ctx, &Request{Method: http.MethodGet, Bucket: bucket, Query: q})
		if err != nil {
			return nil, err
		}
		page, res, err := parseUploads(body)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if !res.IsTruncated || res.NextKeyMarker == "" && res.NextUploadIDMarker == "" {
			return out, nil
		}
		q.Set("key-marker", res.NextKeyMarker)
		q.Set("upload-id-marker", res.NextUploadIDMarker)
	}
}

// parseUploads reads one ListMultipartUploads answer.
func parseUploads(body []byte) ([]MultipartUpload, *listUploadsResult, error) {
	var res listUploadsResult
	if err := xml.Unmarshal(body, &res); err != nil {
		return nil, nil, fmt.Errorf("s3: ListMultipartUploads: unreadable response: %w", err)
	}
	out := make([]MultipartUpload, 0, len(res.Uploads))
	for _, u := range res.Uploads {
		t, _ := time.Parse(time.RFC3339Nano, u.Initiated)
		out = append(out, MultipartUpload{Key: u.Key, UploadID: u.UploadID, Initiated: t})
	}
	return out, &res, nil
}
