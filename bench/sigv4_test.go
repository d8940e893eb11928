package bench

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	miniosigner "github.com/minio/minio-go/v7/pkg/signer"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
)

const (
	benchURL    = "https://examplebucket.s3.us-east-1.amazonaws.com/photos/2024/cat.jpg"
	benchAKID   = "AKIAIOSFODNN7EXAMPLE"
	benchSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var benchTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func s3Get(tb testing.TB, rawURL string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(tb, err)
	req.Header.Set("X-Amz-Content-Sha256", sigv4.EmptyPayloadHash)
	return req
}

// sdkGetObject is a typical S3 GET: the GetObject request aws-sdk-go-v2
// puts on the wire, with the headers its middleware stack adds before
// signing (all signed but User-Agent).
func sdkGetObject(tb testing.TB) *http.Request {
	req := s3Get(tb, benchURL+"?x-id=GetObject")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.41.0 ua/2.1 os/linux lang/go#1.26.0 md/GOOS#linux md/GOARCH#amd64 api/s3#1.90.0 m/E,Z,g")
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("Amz-Sdk-Invocation-Id", "2c0a3f8e-7d1b-4f6a-9b3e-5a8c1d2e4f60")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	req.Header.Set("X-Amz-Checksum-Mode", "ENABLED")
	return req
}

func awsS3Signer() *awsv4.Signer {
	return awsv4.NewSigner(func(o *awsv4.SignerOptions) { o.DisableURIPathEscaping = true })
}

// TestSignMatchesAWSSDK checks that both signers produce the same
// Authorization for the same S3 requests, so the benchmarks compare equal
// work. aws-sdk-go-v2 with DisableURIPathEscaping signs URL.EscapedPath() as
// it is, so keys with characters Go leaves raw ($, &, +, ...) are given to it
// pre-encoded in Opaque.
func TestSignMatchesAWSSDK(t *testing.T) {
	ours := &sigv4.Signer{Service: "s3", Region: "us-east-1"}
	theirs := awsS3Signer()
	creds := sigv4.Credentials{AccessKeyID: benchAKID, SecretAccessKey: benchSecret, SessionToken: "token/+="}
	tests := []struct{ name, url, opaque string }{
		{"plain", benchURL, ""},
		{"sdk GetObject", "", ""},
		{"space and UTF-8", "https://b.s3.us-east-1.amazonaws.com/a%20b/caf%C3%A9.txt", ""},
		{"query", "https://b.s3.us-east-1.amazonaws.com/?list-type=2&prefix=a%2Fb&delimiter=%2F&max-keys=10", ""},
		{"dollar etc via opaque", "https://b.s3.us-east-1.amazonaws.com/k", "//b.s3.us-east-1.amazonaws.com/x%24%26%2B%3D%3A%40y"},
		{"port", "http://127.0.0.1:9000/bucket/key", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := s3Get(t, tc.url), s3Get(t, tc.url)
			if tc.url == "" {
				a, b = sdkGetObject(t), sdkGetObject(t)
			}
			a.Header.Set("Range", "bytes=0-9")
			b.Header.Set("Range", "bytes=0-9")
			if tc.opaque != "" {
				a.URL.Opaque, b.URL.Opaque = tc.opaque, tc.opaque
			}
			require.NoError(t, ours.Sign(a, creds, sigv4.EmptyPayloadHash, benchTime))
			require.NoError(t, theirs.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken},
				b, sigv4.EmptyPayloadHash, "s3", "us-east-1", benchTime))
			require.Equal(t, b.Header.Get("Authorization"), a.Header.Get("Authorization"))
		})
	}
	t.Run("presign", func(t *testing.T) {
		a, err := http.NewRequest(http.MethodGet, benchURL, nil)
		require.NoError(t, err)
		u, err := ours.Presign(a, creds, sigv4.UnsignedPayload, time.Hour, benchTime)
		require.NoError(t, err)
		b := s3Get(t, benchURL+"?X-Amz-Expires=3600")
		b.Header.Del("X-Amz-Content-Sha256")
		signed, _, err := theirs.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken},
			b, sigv4.UnsignedPayload, "s3", "us-east-1", benchTime)
		require.NoError(t, err)
		want, err := url.Parse(signed)
		require.NoError(t, err)
		require.Equal(t, want.Query(), u.Query())
	})
}

// BenchmarkSignS3Get signs a typical S3 GET (sdkGetObject) with each
// library; the request is reused, so only the signing is measured.
func BenchmarkSignS3Get(b *testing.B) { benchSign(b, sdkGetObject) }

// BenchmarkSignS3GetMinimal signs a GET with only Host and
// X-Amz-Content-Sha256.
func BenchmarkSignS3GetMinimal(b *testing.B) {
	benchSign(b, func(tb testing.TB) *http.Request { return s3Get(tb, benchURL) })
}

func benchSign(b *testing.B, newReq func(testing.TB) *http.Request) {
	b.Run("anyblob", func(b *testing.B) {
		s := &sigv4.Signer{Service: "s3", Region: "us-east-1"}
		creds := sigv4.Credentials{AccessKeyID: benchAKID, SecretAccessKey: benchSecret}
		req := newReq(b)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Sign(req, creds, sigv4.EmptyPayloadHash, benchTime); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("aws-sdk-go-v2", func(b *testing.B) {
		s := awsS3Signer()
		creds := aws.Credentials{AccessKeyID: benchAKID, SecretAccessKey: benchSecret}
		req := newReq(b)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := s.SignHTTP(ctx, creds, req, sigv4.EmptyPayloadHash, "s3", "us-east-1", benchTime); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("minio-go", func(b *testing.B) {
		req := newReq(b)
		b.ReportAllocs()
		for b.Loop() {
			if r := miniosigner.SignV4(*req, benchAKID, benchSecret, "", "us-east-1"); r == nil {
				b.Fatal("nil request")
			}
		}
	})
}

// BenchmarkPresignS3Get presigns the same S3 GET for an hour.
func BenchmarkPresignS3Get(b *testing.B) {
	b.Run("anyblob", func(b *testing.B) {
		s := &sigv4.Signer{Service: "s3", Region: "us-east-1"}
		creds := sigv4.Credentials{AccessKeyID: benchAKID, SecretAccessKey: benchSecret}
		req, _ := http.NewRequest(http.MethodGet, benchURL, nil)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Presign(req, creds, sigv4.UnsignedPayload, time.Hour, benchTime); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("aws-sdk-go-v2", func(b *testing.B) {
		s := awsS3Signer()
		creds := aws.Credentials{AccessKeyID: benchAKID, SecretAccessKey: benchSecret}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			// PresignHTTP reads X-Amz-Expires from the query and does not
			// change the request, so it can be reused.
			req, _ := http.NewRequest(http.MethodGet, benchURL+"?X-Amz-Expires="+strconv.Itoa(3600), nil)
			if _, _, err := s.PresignHTTP(ctx, creds, req, sigv4.UnsignedPayload, "s3", "us-east-1", benchTime); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("minio-go", func(b *testing.B) {
		req, _ := http.NewRequest(http.MethodGet, benchURL, nil)
		b.ReportAllocs()
		for b.Loop() {
			if r := miniosigner.PreSignV4(*req, benchAKID, benchSecret, "", "us-east-1", 3600); r == nil {
				b.Fatal("nil request")
			}
		}
	})
}
