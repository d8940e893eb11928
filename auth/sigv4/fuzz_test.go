package sigv4

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// wireRoundTrip writes req as a client would and parses it as a server
// would; ok is false when either side refuses it.
func wireRoundTrip(req *http.Request) (*http.Request, bool) {
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		return nil, false
	}
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		return nil, false
	}
	return sr, true
}

// FuzzSignVerify signs arbitrary requests, sends them through the wire
// format, and checks that the Verifier accepts what the Signer produced
// (header form and presigned form) and rejects it once the path changes.
func FuzzSignVerify(f *testing.F) {
	f.Add("GET", "/bucket/key.txt", "", "X-Amz-Meta-A", "v", []byte(nil), true, false)
	f.Add("PUT", "/b/a b$&+=:@~ü%25", "partNumber=1&uploadId=x+y", "Content-Type", "text/plain", []byte("hello"), true, true)
	f.Add("POST", "/prod/./x/../100%25", "a=1&a=0&b", "My-Header", "  a   b  ", []byte(`{"x":1}`), false, false)
	f.Add("DELETE", "//double//slash", "k=%E1%88%B4", "X-Amz-Tagging", "a=b", []byte(nil), false, true)
	f.Fuzz(func(t *testing.T, method, path, query, hname, hval string, body []byte, s3, presign bool) {
		svc := "execute-api"
		if s3 {
			svc = "s3"
		}
		s := &Signer{Service: svc, Region: "us-east-1"}
		v := &Verifier{Service: svc, Region: "us-east-1", Credentials: lookup, Now: func() time.Time { return verifyNow }}
		u := &url.URL{Scheme: "http", Host: "127.0.0.1:9000", Path: path, RawQuery: query}
		req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
		if err != nil || !strings.HasPrefix(req.URL.EscapedPath(), "/") || strings.Contains(query, "X-Amz-") {
			return
		}
		if http.CanonicalHeaderKey(hname) != "Host" {
			req.Header.Set(hname, hval)
		}
		if presign {
			// Other services than S3 check the body's hash also in the
			// query form, so the URL must be presigned for this body.
			hash := ""
			if !s3 {
				sum := sha256.Sum256(body)
				hash = hex.EncodeToString(sum[:])
			}
			pu, err := s.Presign(req, testCreds, hash, time.Hour, verifyNow)
			if err != nil {
				return
			}
			req.URL = pu
		} else if err := (&Transport{}).signForTest(s, req); err != nil {
			return
		}
		sr, ok := wireRoundTrip(req)
		if !ok {
			return
		}
		id, err := v.Verify(sr)
		if err != nil {
			t.Fatalf("a signed request failed verification: %v\nrequest %s %q ? %q header %q: %q", err, method, path, query, hname, hval)
		}
		if id.AccessKeyID != testCreds.AccessKeyID || id.Presigned != presign {
			t.Fatalf("wrong identity %+v", id)
		}
		got, err := io.ReadAll(sr.Body)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("body %q, %v; want %q", got, err, body)
		}

		// Changing the path must break the signature.
		if req.GetBody != nil {
			req.Body, _ = req.GetBody()
		}
		sr2, ok := wireRoundTrip(req)
		if !ok {
			t.Fatal("second round trip failed")
		}
		sr2.RequestURI = "/tampered" + sr2.RequestURI
		if _, err := v.Verify(sr2); err == nil {
			t.Fatal("a tampered path verified")
		}
	})
}

// FuzzVerify feeds arbitrary signature fields, dates and bodies to the
// Verifier: it must never panic, must answer with a *VerifyError, and must
// accept nothing that was not signed with the key.
func FuzzVerify(f *testing.F) {
	good, _ := http.NewRequest(http.MethodGet, "http://example.com/bucket/key?x=1", nil)
	(&Signer{Service: "s3", Region: "us-east-1"}).Sign(good, testCreds, "", verifyNow)
	f.Add(good.Header.Get("Authorization"), good.Header.Get("X-Amz-Date"), "x=1", good.Header.Get("X-Amz-Content-Sha256"), []byte(nil))
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=00", "20240501T120000Z", "", StreamingPayload, []byte("2000;chunk-signature=abc\r\nxx\r\n0\r\n\r\n"))
	f.Add("", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240501%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240501T115900Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=abcd", "", []byte(nil))
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length,Signature=00", "20240501T120000Z", "", StreamingUnsignedTrailer, []byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32c:AAAAAA==\r\n\r\n"))
	f.Fuzz(func(t *testing.T, auth, date, query, payload string, body []byte) {
		v := s3Verifier()
		req := &http.Request{Method: "PUT", Host: "example.com", RequestURI: "/bucket/key", URL: &url.URL{Path: "/bucket/key", RawQuery: query}, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if date != "" {
			req.Header.Set("X-Amz-Date", date)
		}
		if payload != "" {
			req.Header.Set("X-Amz-Content-Sha256", payload)
		}
		req.Header.Set("X-Amz-Decoded-Content-Length", "5")
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32c")
		id, err := v.Verify(req)
		if err == nil {
			// Only a real signature can get here, and the fuzzer cannot forge one.
			t.Fatalf("verified a forged request: %+v", id)
		}
		var ve *VerifyError
		if !errors.As(err, &ve) || ve.Code == "" || ve.Status == 0 || ve.Message == "" {
			t.Fatalf("error %v is not a complete *VerifyError", err)
		}
	})
}

// FuzzChunkDecoder feeds arbitrary aws-chunked bodies to the decoder of a
// correctly signed streaming request: no panic, no hang, and the bytes it
// hands out are a prefix of what some valid stream could carry.
func FuzzChunkDecoder(f *testing.F) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	body := bytes.Repeat([]byte("ab"), MinChunkSize/2+8) // two chunks, the second of 16 bytes
	mk := func(sign func(*http.Request) error) (*http.Request, []byte) {
		req, _ := http.NewRequest(http.MethodPut, "http://example.com/b/k", bytes.NewReader(body))
		if err := sign(req); err != nil {
			f.Fatal(err)
		}
		enc, _ := io.ReadAll(req.Body)
		return req, enc
	}
	signedReq, signedEnc := mk(func(r *http.Request) error { return s.SignStreaming(r, testCreds, MinChunkSize, verifyNow) })
	trailerReq, trailerEnc := mk(func(r *http.Request) error { return s.SignUnsignedTrailer(r, testCreds, MinChunkSize, verifyNow) })
	f.Add(false, signedEnc)
	f.Add(true, trailerEnc)
	f.Add(false, signedEnc[:100])
	f.Add(true, []byte("0\r\nx-amz-checksum-crc32c:AAAAAA==\r\n\r\n"))
	v := s3Verifier()
	f.Fuzz(func(t *testing.T, trailer bool, enc []byte) {
		if len(enc) > 4*MinChunkSize {
			return
		}
		base := signedReq
		if trailer {
			base = trailerReq
		}
		sr := serverRequest(base, enc)
		if _, err := v.Verify(sr); err != nil {
			t.Fatalf("the headers were signed correctly: %v", err)
		}
		// A watchdog turns a hang into a failure the fuzzer records.
		var got []byte
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			got, err = io.ReadAll(sr.Body)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("decoding hangs on %q", enc)
		}
		if len(got) > len(body) {
			t.Fatalf("decoded %d bytes, more than the declared %d", len(got), len(body))
		}
		if err == nil && !bytes.Equal(got, body) {
			if trailer {
				// unsigned chunks: anything with the right CRC32C and length passes
				return
			}
			t.Fatalf("a signed stream decoded without error to other bytes")
		}
		if !trailer && !bytes.Equal(got, body[:len(got)]) {
			t.Fatalf("signed chunks handed out bytes that were never signed")
		}
		var ve *VerifyError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("error %v is not a *VerifyError", err)
		}
	})
}
