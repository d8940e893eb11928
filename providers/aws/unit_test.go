package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
)

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   error
		code   string
	}{
		{404, `<Error><Code>NoSuchKey</Code><Message>gone</Message><RequestId>R1</RequestId></Error>`, blob.ErrNotFound, "NoSuchKey"},
		{404, `<Error><Code>NoSuchBucket</Code></Error>`, blob.ErrNotFound, "NoSuchBucket"},
		{412, `<Error><Code>PreconditionFailed</Code></Error>`, blob.ErrPreconditionFailed, "PreconditionFailed"},
		{409, `<Error><Code>ConditionalRequestConflict</Code></Error>`, blob.ErrPreconditionFailed, "ConditionalRequestConflict"},
		// A key the server cannot store is no precondition the caller set.
		{409, `<Error><Code>ObjectParentIsFile</Code></Error>`, blob.ErrInvalidArgument, "ObjectParentIsFile"},
		{409, `<Error><Code>ExistingObjectIsDirectory</Code></Error>`, blob.ErrInvalidArgument, "ExistingObjectIsDirectory"},
		{409, `<Error><Code>XMinioObjectExistsAsDirectory</Code></Error>`, blob.ErrInvalidArgument, "XMinioObjectExistsAsDirectory"},
		{400, `<Error><Code>XMinioInvalidObjectName</Code></Error>`, blob.ErrInvalidArgument, "XMinioInvalidObjectName"},
		{409, `<Error><Code>SomethingElse</Code></Error>`, blob.ErrPreconditionFailed, "SomethingElse"},
		{403, `<Error><Code>AccessDenied</Code></Error>`, blob.ErrPermissionDenied, "AccessDenied"},
		{403, `<Error><Code>InvalidAccessKeyId</Code></Error>`, blob.ErrUnauthenticated, "InvalidAccessKeyId"},
		{403, `<Error><Code>SignatureDoesNotMatch</Code></Error>`, blob.ErrUnauthenticated, "SignatureDoesNotMatch"},
		{400, `<Error><Code>ExpiredToken</Code></Error>`, blob.ErrUnauthenticated, "ExpiredToken"},
		{503, `<Error><Code>SlowDown</Code></Error>`, blob.ErrThrottled, "SlowDown"},
		{400, `<Error><Code>InvalidArgument</Code></Error>`, blob.ErrInvalidArgument, "InvalidArgument"},
		{501, `<Error><Code>NotImplemented</Code></Error>`, blob.ErrNotImplemented, "NotImplemented"},
		{500, `<Error><Code>InternalError</Code></Error>`, blob.ErrInternal, "InternalError"},
		{404, ``, blob.ErrNotFound, ""},
		{412, ``, blob.ErrPreconditionFailed, ""},
		{403, ``, blob.ErrPermissionDenied, ""},
		{503, `not xml`, blob.ErrThrottled, ""},
		{418, ``, blob.ErrInternal, ""},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status)+"/"+tt.code, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{"X-Amz-Request-Id": {"HDR"}}, Body: io.NopCloser(strings.NewReader(tt.body))}
			err := error(parseError(resp))
			d := errorDetail(fmt.Errorf("wrapped: %w", err))
			require.Equal(t, tt.want, d.Kind)
			require.Equal(t, tt.code, d.Code)
			require.Equal(t, tt.status, d.Status)
			require.NotEmpty(t, d.RequestID)
			require.NotEmpty(t, d.Message)
			var se *Error
			require.True(t, errors.As(err, &se))
			require.Contains(t, se.Error(), "status")
		})
	}
}

func TestMetadataEncoding(t *testing.T) {
	values := []string{"", "plain", "héllo wörld", "日本語", " lead", "trail ", "a\nb\tc", "=?utf-8?q?x?=", "emoji 🎉", "100% = ?"}
	for _, v := range values {
		t.Run(v, func(t *testing.T) {
			enc := encodeMetaValue(v)
			for i := 0; i < len(enc); i++ {
				require.True(t, enc[i] >= 0x20 && enc[i] < 0x7f, "byte %q of %q", enc[i], enc)
			}
			require.Equal(t, v, decodeMetaValue(enc))
			h := http.Header{}
			setMetadata(h, map[string]string{"k": v})
			require.Equal(t, map[string]string{"k": v}, metadataFrom(h))
		})
	}
	require.Equal(t, "plain", encodeMetaValue("plain"), "ASCII values travel unchanged")
	require.Equal(t, "héllo", decodeMetaValue("=?UTF-8?Q?h=C3=A9llo?="), "other clients' Q-encoding decodes")
}

func TestPlanCopy(t *testing.T) {
	tests := []struct {
		name     string
		size     int64
		partSize int64
		parts    int
		first    int64 // size of the first part
	}{
		{"6 GiB in default parts", 6 << 30, 0, 12, DefaultCopyPartSize},
		{"just over 5 GiB", 5<<30 + 1, 0, 11, DefaultCopyPartSize},
		{"5 TiB raises the part size", MaxObjectSize, 0, 10000, (MaxObjectSize + MaxParts - 1) / MaxParts},
		{"small parts raised to the minimum", 12 << 20, 1 << 20, 3, MinPartSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := planCopy(tt.size, tt.partSize)
			require.NoError(t, err)
			require.Len(t, rs, tt.parts)
			require.Equal(t, tt.first, rs[0].last-rs[0].first+1)
			var next int64
			for _, r := range rs {
				require.Equal(t, next, r.first, "ranges are contiguous")
				require.LessOrEqual(t, r.last-r.first+1, int64(MaxPartSize))
				next = r.last + 1
			}
			require.Equal(t, tt.size, next, "ranges cover the object")
			require.Equal(t, "bytes=0-", rs[0].String()[:8])
		})
	}
	_, err := planCopy(MaxObjectSize+1, 0)
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
}

func TestURLs(t *testing.T) {
	tests := []struct {
		name, endpoint string
		pathStyle      bool
		bucket, key    string
		want           string
	}{
		{"aws virtual", "", false, "bkt", "a b/c+d", "https://bkt.s3.eu-west-1.amazonaws.com/a%20b/c%2Bd"},
		{"aws dotted bucket goes path style", "", false, "my.bkt", "k", "https://s3.eu-west-1.amazonaws.com/my.bkt/k"},
		{"path style", "https://s3.example.com", true, "bkt", "é/100%", "https://s3.example.com/bkt/%C3%A9/100%25"},
		{"ip endpoint goes path style", "http://127.0.0.1:9000", false, "bkt", "k", "http://127.0.0.1:9000/bkt/k"},
		{"bucket only", "http://localhost:9000", false, "bkt", "", "http://localhost:9000/bkt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, Options{Region: "eu-west-1", Endpoint: tt.endpoint, UsePathStyle: tt.pathStyle, Anonymous: true})
			require.Equal(t, tt.want, c.url(tt.bucket, tt.key, nil).String())
		})
	}
	require.Equal(t, "a=x%20y&b=%2B&uploads=", encodeQuery(url.Values{"b": {"+"}, "a": {"x y"}, "uploads": {""}}))
}

func TestNewOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no region", Options{Anonymous: true}, "no region"},
		{"no credentials", Options{Region: "r"}, "no credentials"},
		{"bad endpoint", Options{Region: "r", Anonymous: true, Endpoint: "ftp://x"}, "endpoint"},
		{"endpoint with user info", Options{Region: "r", Anonymous: true, Endpoint: "https://u:p@x"}, "endpoint"},
		{"small part size", Options{Region: "r", Anonymous: true, PartSize: 1}, "PartSize"},
		{"negative concurrency", Options{Region: "r", Anonymous: true, Concurrency: -1}, "Concurrency"},
		{"negative read concurrency", Options{Region: "r", Anonymous: true, ReadConcurrency: -1}, "ReadConcurrency"},
		{"small read part size", Options{Region: "r", Anonymous: true, ReadPartSize: 1000}, "ReadPartSize"},
		{"negative read target", Options{Region: "r", Anonymous: true, ReadTarget: -1}, "ReadTarget"},
		{"negative attempts", Options{Region: "r", Anonymous: true, Retry: RetryPolicy{MaxAttempts: -1}}, "MaxAttempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), tt.opts)
			require.ErrorIs(t, err, ErrInvalidOptions, "the client's own error")
			require.NotErrorIs(t, err, blob.ErrInvalidArgument, "the client stands alone")
			_, err = OpenBucket(context.Background(), "bkt", tt.opts)
			require.ErrorIs(t, err, blob.ErrInvalidArgument, "a bucket maps it")
			require.Contains(t, err.Error(), tt.want)
			require.NotContains(t, err.Error(), "u:p")
		})
	}
	c := newClient(t, Options{Region: "r", Anonymous: true})
	for _, name := range []string{"ab", "Upper", "-lead", "trail-", "under_score", strings.Repeat("a", 64)} {
		_, err := c.Bucket(name)
		require.ErrorIs(t, err, blob.ErrInvalidArgument, name)
	}
}

func TestEscapeKeys(t *testing.T) {
	keys := []string{"a", "a/1", "a//b", "a/!x", "a!", "../x", "./y", "", "/", "trailing/", "tab\tkey", "ctl\x01\x09\x0a", "!", "!/!", "é/日本", "a/b/", "a\x08", "a\t", "a\n"}
	d := &driver{esc: true}
	for _, k := range keys {
		s := escapeKey(k, true)
		for _, seg := range strings.Split(s, "/") {
			require.NotContains(t, []string{"", ".", ".."}, seg, "key %q stored as %q", k, s)
		}
		got, ok := d.unk(s)
		require.True(t, ok)
		require.Equal(t, k, got)
		for _, k2 := range keys {
			s2 := escapeKey(k2, true)
			require.Equal(t, k < k2, s < s2, "order of %q and %q", k, k2)
			p := escapeKey(k, false)
			require.Equal(t, strings.HasPrefix(k2, k), strings.HasPrefix(s2, p), "prefix %q of %q", k, k2)
		}
	}
	_, ok := d.unk("not-escaped")
	require.False(t, ok)
	_, err := d.k(strings.Repeat("k", 254))
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	_, err = d.k(strings.Repeat("k", 253) + "/" + strings.Repeat("k", 253))
	require.NoError(t, err)
}

// failingSource fails every Retrieve.
type failingSource struct{}

func (failingSource) Retrieve(context.Context) (sigv4.Credentials, error) {
	return sigv4.Credentials{}, errors.New("no keys here")
}

func TestCredentialFailureIsQuick(t *testing.T) {
	c := newClient(t, Options{Region: "r", Endpoint: "http://127.0.0.1:1", Credentials: failingSource{}, StallTimeout: time.Hour})
	start := time.Now()
	_, err := c.Do(context.Background(), &Request{Method: http.MethodPut, Bucket: "bkt", Key: "k", Body: []byte("body")})
	require.ErrorIs(t, err, ErrCredentials)
	require.Equal(t, blob.ErrUnauthenticated, errorDetail(err).Kind)
	require.Contains(t, err.Error(), "no keys here")
	require.Less(t, time.Since(start), 5*time.Second, "no wait for a body never sent")
}
