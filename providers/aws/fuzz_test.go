package aws

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// The fuzz targets below read what an S3 server (or anything pretending to
// be one) sends: they must never panic, and what they return must keep the
// package's promises. Run one for minutes with, for example:
//
//	go test -run '^$' -fuzz FuzzParseList -fuzztime 2m ./providers/aws

func FuzzParseError(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>k</Key><RequestId>4442587FB7D0A2F9</RequestId><HostId>host</HostId></Error>`,
		`<Error><Code>SlowDown</Code></Error>`,
		`<Error><Code></Code><Message>x</Message></Error>`,
		`not xml`, ``, `<Error>`, `<Error><Code>A</Code><Code>B</Code></Error>`,
	} {
		f.Add(uint16(404), []byte(s), "hdr-id", "XMinioInvalidObjectName")
	}
	f.Fuzz(func(t *testing.T, status uint16, body []byte, reqID, minioCode string) {
		h := http.Header{}
		h.Set("X-Amz-Request-Id", reqID)
		h.Set("X-Minio-Error-Code", minioCode)
		e := parseError(&http.Response{StatusCode: int(status), Header: h, Body: io.NopCloser(bytes.NewReader(body))})
		require.Equal(t, int(status), e.Status)
		var x xmlError
		if xml.Unmarshal(body, &x) == nil && x.Code != "" {
			require.Equal(t, x.Code, e.Code, "the XML code wins")
		}
		require.Contains(t, []error{blob.ErrNotFound, blob.ErrPreconditionFailed, blob.ErrPermissionDenied,
			blob.ErrUnauthenticated, blob.ErrInvalidArgument, blob.ErrNotImplemented, blob.ErrThrottled,
			blob.ErrInternal}, kindOf(e), "every answer maps to one sentinel")
		require.NotEmpty(t, e.Error())
	})
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{
		`<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>tok</NextContinuationToken><Contents><Key>a%2Fb</Key><Size>3</Size><ETag>"x"</ETag><LastModified>2026-01-02T03:04:05.000Z</LastModified></Contents><CommonPrefixes><Prefix>p%2F</Prefix></CommonPrefixes><EncodingType>url</EncodingType></ListBucketResult>`,
		`<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>`,
		`<ListBucketResult><Contents><Key>%zz</Key></Contents><EncodingType>url</EncodingType></ListBucketResult>`,
		"<ListBucketResult><Contents><Key>!k\t</Key></Contents></ListBucketResult>",
		`garbage`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, escaped bool) {
		d := &driver{esc: escaped}
		page, err := parseList(body, d.unk)
		if err != nil {
			require.Equal(t, blob.ErrInternal, blob.KindOf(err), "an unreadable answer is the server's fault: %v", err)
			return
		}
		if page.NextPageToken == "" {
			var res listResult
			require.NoError(t, xml.Unmarshal(body, &res))
			require.False(t, res.IsTruncated, "a truncated page always has a token")
		}
		for _, o := range page.Objects {
			if escaped {
				k, ok := d.unk(escapeKey(o.Key, true))
				require.True(t, ok)
				require.Equal(t, o.Key, k, "an escaped name round-trips")
			}
			require.GreaterOrEqual(t, o.ModTime.Year(), 1)
		}
	})
}

func FuzzParseUploads(f *testing.F) {
	f.Add([]byte(`<ListMultipartUploadsResult><IsTruncated>true</IsTruncated><NextKeyMarker>k</NextKeyMarker><NextUploadIdMarker>u</NextUploadIdMarker><Upload><Key>k</Key><UploadId>u1</UploadId><Initiated>2026-01-02T03:04:05.000Z</Initiated></Upload></ListMultipartUploadsResult>`))
	f.Add([]byte(`<ListMultipartUploadsResult><Upload><Initiated>yesterday</Initiated></Upload></ListMultipartUploadsResult>`))
	f.Add([]byte(`<`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, res, err := parseUploads(body)
		if err != nil {
			require.Nil(t, out)
			return
		}
		require.Len(t, out, len(res.Uploads))
		for i, u := range res.Uploads {
			require.Equal(t, u.Key, out[i].Key)
			require.Equal(t, u.UploadID, out[i].UploadID)
		}
	})
}
