package sigv4

import (
	"net/http"
	"testing"
	"time"
)

// sdkGetObject is a typical S3 GET: the request aws-sdk-go-v2's GetObject
// puts on the wire, with the headers its middleware adds before signing.
func sdkGetObject(b *testing.B) *http.Request {
	req, err := http.NewRequest(http.MethodGet, "https://examplebucket.s3.us-east-1.amazonaws.com/photos/2024/cat.jpg?x-id=GetObject", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.41.0 ua/2.1 os/linux lang/go#1.26.0 md/GOOS#linux md/GOARCH#amd64 api/s3#1.90.0 m/E,Z,g")
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("Amz-Sdk-Invocation-Id", "2c0a3f8e-7d1b-4f6a-9b3e-5a8c1d2e4f60")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	req.Header.Set("X-Amz-Checksum-Mode", "ENABLED")
	return req
}

func BenchmarkSignS3Get(b *testing.B) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	req := sdkGetObject(b)
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Sign(req, testCreds, EmptyPayloadHash, at); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignS3GetMinimal(b *testing.B) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	req, _ := http.NewRequest(http.MethodGet, "https://examplebucket.s3.us-east-1.amazonaws.com/photos/2024/cat.jpg", nil)
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Sign(req, testCreds, EmptyPayloadHash, at); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPresignS3Get(b *testing.B) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	req, _ := http.NewRequest(http.MethodGet, "https://examplebucket.s3.us-east-1.amazonaws.com/photos/2024/cat.jpg", nil)
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Presign(req, testCreds, UnsignedPayload, time.Hour, at); err != nil {
			b.Fatal(err)
		}
	}
}
