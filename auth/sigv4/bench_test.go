package sigv4

import (
	"net/http"
	"testing"
	"time"
)

func BenchmarkSignS3Get(b *testing.B) {
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
