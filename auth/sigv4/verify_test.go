package sigv4

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	verifyNow   = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tokenCreds  = Credentials{AccessKeyID: "AKIDTOKEN", SecretAccessKey: "tokensecret", SessionToken: "the-token", AccountID: "123456789012", Source: "sts"}
	expiredKeys = Credentials{AccessKeyID: "AKIDEXPIRED", SecretAccessKey: "expiredsecret", Expires: verifyNow.Add(-time.Minute)}
)

func lookup(_ context.Context, akid string) (Credentials, error) {
	switch akid {
	case testCreds.AccessKeyID:
		return testCreds, nil
	case tokenCreds.AccessKeyID:
		return tokenCreds, nil
	case expiredKeys.AccessKeyID:
		return expiredKeys, nil
	case "AKIDBROKEN":
		return Credentials{}, errors.New("store is down")
	}
	return Credentials{}, fmt.Errorf("%q: %w", akid, ErrUnknownAccessKey)
}

// echo is what the test handler answers for a verified request.
type echo struct {
	AccessKeyID, AccountID string
	Presigned              bool
	PayloadHash            string
	Body                   string
	BodyErr                string
}

// newVerifyServer serves v's Middleware in front of a handler that reads
// the whole body and echoes the identity and the body (or its read error).
func newVerifyServer(t *testing.T, v *Verifier) *httptest.Server {
	t.Helper()
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := IdentityFrom(r.Context())
		if !ok {
			http.Error(w, "no identity", 500)
			return
		}
		b, err := io.ReadAll(r.Body)
		e := echo{AccessKeyID: id.AccessKeyID, AccountID: id.AccountID, Presigned: id.Presigned, PayloadHash: id.PayloadHash, Body: string(b)}
		var ve *VerifyError
		if errors.As(err, &ve) {
			e.BodyErr = ve.Code
		} else if err != nil {
			e.BodyErr = err.Error()
		}
		json.NewEncoder(w).Encode(e)
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func s3Verifier() *Verifier {
	return &Verifier{Service: "s3", Region: "us-east-1", Credentials: lookup, Now: func() time.Time { return verifyNow }}
}

// do sends req with a plain client and decodes the echo or the XML error.
func do(t *testing.T, req *http.Request) (int, echo, xmlError) {
	t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var e echo
	var x xmlError
	if resp.StatusCode == 200 {
		require.NoError(t, json.Unmarshal(b, &e), string(b))
	} else {
		require.Equal(t, "application/xml", resp.Header.Get("Content-Type"))
		require.NoError(t, xml.Unmarshal(b, &x), string(b))
	}
	return resp.StatusCode, e, x
}

func TestTransportAndMiddleware(t *testing.T) {
	v := s3Verifier()
	srv := newVerifyServer(t, v)
	s := &Signer{Service: "s3", Region: "us-east-1"}
	tests := []struct {
		name    string
		creds   Credentials
		method  string
		path    string
		body    io.Reader
		prepare func(*http.Request)
		want    echo
	}{
		{"GET", testCreds, "GET", "/bucket/key.txt", nil, nil, echo{AccessKeyID: "AKIDEXAMPLE", PayloadHash: EmptyPayloadHash}},
		{"GET with token", tokenCreds, "GET", "/bucket/key", nil, nil, echo{AccessKeyID: "AKIDTOKEN", AccountID: "123456789012", PayloadHash: EmptyPayloadHash}},
		{"PUT replayable body is hashed", testCreds, "PUT", "/bucket/a%20b$&+=:@~ü", strings.NewReader("hello"), nil,
			echo{AccessKeyID: "AKIDEXAMPLE", PayloadHash: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", Body: "hello"}},
		{"PUT with caller's payload hash", testCreds, "PUT", "/bucket/k?x-id=PutObject&partNumber=1", io.NopCloser(strings.NewReader("hi")),
			func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload); r.ContentLength = 2 },
			echo{AccessKeyID: "AKIDEXAMPLE", PayloadHash: UnsignedPayload, Body: "hi"}},
		{"unreplayable body over http is streamed", testCreds, "PUT", "/bucket/stream", io.NopCloser(strings.NewReader("streamed body")),
			func(r *http.Request) { r.ContentLength = 13 },
			echo{AccessKeyID: "AKIDEXAMPLE", PayloadHash: StreamingPayload, Body: "streamed body"}},
		{"query with spaces and plus", testCreds, "GET", "/bucket?list-type=2&prefix=a+b%2Fc&delimiter=%2F", nil, nil, echo{AccessKeyID: "AKIDEXAMPLE", PayloadHash: EmptyPayloadHash}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := &http.Client{Transport: &Transport{Source: StaticCredentials(tc.creds), Signer: s, Now: func() time.Time { return verifyNow }}}
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, tc.body)
			require.NoError(t, err)
			req.Header.Set("X-Amz-Meta-Color", "  blue   green ")
			req.Header.Set("User-Agent", "test-agent")
			if tc.prepare != nil {
				tc.prepare(req)
			}
			before := req.Header.Clone()
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			require.Equal(t, 200, resp.StatusCode, string(b))
			var got echo
			require.NoError(t, json.Unmarshal(b, &got))
			require.Equal(t, tc.want, got)
			require.Equal(t, before, req.Header, "the Transport must not change the caller's request")
		})
	}
}

func TestTransportErrors(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	boom := errors.New("no creds here")
	closed := &closeRecorder{Reader: strings.NewReader("x")}
	tests := []struct {
		name string
		tr   *Transport
		url  string
		body io.ReadCloser
		want error
	}{
		{"source fails", &Transport{Source: failingSource{boom}, Signer: s}, "http://127.0.0.1:1/b/k", nil, boom},
		{"no signer", &Transport{Source: StaticCredentials(testCreds)}, "http://127.0.0.1:1/b/k", nil, ErrInvalidSigner},
		{"unreplayable body over http", &Transport{Source: StaticCredentials(testCreds), Signer: s}, "http://127.0.0.1:1/b/k", closed, ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPut, tc.url, tc.body)
			require.NoError(t, err)
			_, err = tc.tr.RoundTrip(req)
			require.ErrorIs(t, err, tc.want)
			if tc.body != nil {
				require.True(t, closed.closed, "the body must be closed on error")
			}
		})
	}
}

type failingSource struct{ err error }

func (f failingSource) Retrieve(context.Context) (Credentials, error) { return Credentials{}, f.err }

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestVerifyStreaming(t *testing.T) {
	srv := newVerifyServer(t, s3Verifier())
	s := &Signer{Service: "s3", Region: "us-east-1"}
	body := bytes.Repeat([]byte("0123456789abcdef"), 3000) // 48000 bytes, 6 chunks of 8 KiB
	tests := []struct {
		name    string
		sign    func(*http.Request) error
		mangle  func([]byte) []byte
		want    string // expected body error code; "" = body passes
		payload string
	}{
		{"signed chunks", func(r *http.Request) error { return s.SignStreaming(r, testCreds, MinChunkSize, verifyNow) }, nil, "", StreamingPayload},
		{"signed chunks with trailer", func(r *http.Request) error { return s.SignStreamingTrailer(r, testCreds, MinChunkSize, verifyNow) }, nil, "", StreamingPayloadTrailer},
		{"unsigned trailer", func(r *http.Request) error { return s.SignUnsignedTrailer(r, testCreds, MinChunkSize, verifyNow) }, nil, "", StreamingUnsignedTrailer},
		{"bad chunk signature", func(r *http.Request) error { return s.SignStreaming(r, testCreds, MinChunkSize, verifyNow) },
			func(b []byte) []byte { i := bytes.Index(b, []byte("\r\n")) + 2 + 100; b[i] ^= 1; return b }, CodeSignatureDoesNotMatch, StreamingPayload},
		{"bad CRC32C trailer", func(r *http.Request) error { return s.SignUnsignedTrailer(r, testCreds, MinChunkSize, verifyNow) },
			func(b []byte) []byte { i := bytes.Index(b, []byte("\r\n")) + 2; b[i] ^= 1; return b }, CodeBadDigest, StreamingUnsignedTrailer},
		{"bad trailer signature", func(r *http.Request) error { return s.SignStreamingTrailer(r, testCreds, MinChunkSize, verifyNow) },
			func(b []byte) []byte {
				i := bytes.Index(b, []byte("x-amz-trailer-signature:")) + 30
				b[i] ^= 1
				return b
			}, CodeSignatureDoesNotMatch, StreamingPayloadTrailer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPut, srv.URL+"/bucket/big", bytes.NewReader(body))
			require.NoError(t, err)
			require.NoError(t, tc.sign(req))
			enc, err := io.ReadAll(req.Body)
			require.NoError(t, err)
			if tc.mangle != nil {
				enc = tc.mangle(enc)
			}
			req.Body = io.NopCloser(bytes.NewReader(enc))
			req.ContentLength = int64(len(enc))
			req.Header.Set("Content-Length", fmt.Sprint(len(enc)))
			status, e, x := do(t, req)
			require.Equal(t, 200, status, x.Message)
			require.Equal(t, tc.payload, e.PayloadHash)
			require.Equal(t, tc.want, e.BodyErr)
			if tc.want == "" {
				require.Equal(t, string(body), e.Body)
			} else if tc.want == CodeSignatureDoesNotMatch && tc.name == "bad chunk signature" {
				// Signed chunks are handed out only once checked (trailers
				// can only be checked at the end).
				require.Less(t, len(e.Body), len(body), "a bad stream must not reach the handler whole")
			}
		})
	}
}

// TestTransportConcurrent sends from several goroutines through one
// Transport (run with -race), with two sets of credentials so that the
// signing-key cache is shared.
func TestTransportConcurrent(t *testing.T) {
	srv := newVerifyServer(t, s3Verifier())
	s := &Signer{Service: "s3", Region: "us-east-1"}
	trs := []*Transport{
		{Source: StaticCredentials(testCreds), Signer: s, Now: func() time.Time { return verifyNow }},
		{Source: StaticCredentials(tokenCreds), Signer: s, Now: func() time.Time { return verifyNow }},
	}
	errs := make(chan error, 40)
	for g := 0; g < 8; g++ {
		go func() {
			tr := trs[g%2]
			for i := 0; i < 5; i++ {
				body := fmt.Sprintf("g%d-i%d", g, i)
				req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/b/k%d", srv.URL, i), strings.NewReader(body))
				resp, err := (&http.Client{Transport: tr}).Do(req)
				if err != nil {
					errs <- err
					continue
				}
				var e echo
				err = json.NewDecoder(resp.Body).Decode(&e)
				resp.Body.Close()
				if err == nil && (resp.StatusCode != 200 || e.Body != body) {
					err = fmt.Errorf("status %d, body %q", resp.StatusCode, e.Body)
				}
				errs <- err
			}
		}()
	}
	for i := 0; i < 40; i++ {
		require.NoError(t, <-errs)
	}
}

// TestVerifyTrailerChecksums sends an unsigned-trailer body with each
// checksum S3 takes, right and wrong.
func TestVerifyTrailerChecksums(t *testing.T) {
	// CRC-64/NVME's check value (the CRC catalogue): "123456789".
	require.Equal(t, uint64(0xae8b14860a799888), crc64.Checksum([]byte("123456789"), crc64NVMe))

	srv := newVerifyServer(t, s3Verifier())
	s := &Signer{Service: "s3", Region: "us-east-1"}
	body := []byte("the body of the object, in two chunks")
	sums := map[string]hash.Hash{
		"x-amz-checksum-crc32":     crc32.NewIEEE(),
		"x-amz-checksum-crc32c":    crc32.New(crc32.MakeTable(crc32.Castagnoli)),
		"x-amz-checksum-crc64nvme": crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)),
		"x-amz-checksum-sha1":      sha1.New(),
		"x-amz-checksum-sha256":    sha256.New(),
	}
	for name, h := range sums {
		h.Write(body)
		good := base64.StdEncoding.EncodeToString(h.Sum(nil))
		bad := base64.StdEncoding.EncodeToString(append(h.Sum(nil)[1:], 0))
		for _, tc := range []struct {
			sum, want string
		}{{good, ""}, {bad, CodeBadDigest}} {
			t.Run(name+"/"+tc.want, func(t *testing.T) {
				enc := fmt.Sprintf("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n%s:%s\r\n\r\n", 10, body[:10], len(body)-10, body[10:], name, tc.sum)
				req, err := http.NewRequest(http.MethodPut, srv.URL+"/bucket/k", strings.NewReader(enc))
				require.NoError(t, err)
				req.Header.Set("Content-Encoding", "aws-chunked")
				req.Header.Set("X-Amz-Trailer", name)
				req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(body)))
				require.NoError(t, s.Sign(req, testCreds, StreamingUnsignedTrailer, verifyNow))
				status, e, x := do(t, req)
				require.Equal(t, 200, status, x.Message)
				require.Equal(t, tc.want, e.BodyErr)
				if tc.want == "" {
					require.Equal(t, string(body), e.Body)
				}
			})
		}
	}
}
