package sigv4

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serverRequest turns a signed client request into what a server receives.
func serverRequest(r *http.Request, body []byte) *http.Request {
	sr := httptest.NewRequest(r.Method, r.URL.RequestURI(), bytes.NewReader(body))
	sr.Host = r.Host
	if sr.Host == "" {
		sr.Host = r.URL.Host
	}
	sr.Header = r.Header.Clone()
	sr.ContentLength = int64(len(body))
	if body == nil {
		sr.Body = http.NoBody
	}
	return sr
}

func replaceAuth(old, new string) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
	}
}

func TestVerifyRejectsHeaderForm(t *testing.T) {
	s3 := Signer{Service: "s3", Region: "us-east-1"}
	tests := []struct {
		name   string
		signer Signer
		creds  Credentials
		at     time.Time
		before func(*http.Request)
		after  func(*http.Request)
		code   string
		status int
		msg    string
	}{
		{name: "unsigned", after: func(r *http.Request) { r.Header.Del("Authorization") }, code: CodeAccessDenied, status: 403, msg: "not signed"},
		{name: "other algorithm", after: replaceAuth("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"), code: CodeAccessDenied, status: 403, msg: "not supported"},
		{name: "missing field", after: replaceAuth(", Signature=", ", Sig="), code: CodeAuthorizationHeaderMalformed, status: 400, msg: "unknown"},
		{name: "lacking field", after: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
		}, code: CodeAuthorizationHeaderMalformed, status: 400, msg: "lacks the Signature"},
		{name: "repeated field", after: replaceAuth(", SignedHeaders=", ", Credential=x/y, SignedHeaders="), code: CodeAuthorizationHeaderMalformed, status: 400, msg: "repeated"},
		{name: "wrong region", signer: Signer{Service: "s3", Region: "eu-west-1"}, code: CodeAuthorizationHeaderMalformed, status: 400, msg: "region \"eu-west-1\""},
		{name: "wrong service", signer: Signer{Service: "execute-api", Region: "us-east-1"}, code: CodeAuthorizationHeaderMalformed, status: 400, msg: "service \"execute-api\""},
		{name: "bad terminator", after: replaceAuth("/aws4_request", "/aws5_request"), code: CodeAuthorizationHeaderMalformed, status: 400, msg: "aws4_request"},
		{name: "short scope", after: replaceAuth("/s3/aws4_request", "/aws4_request"), code: CodeAuthorizationHeaderMalformed, status: 400, msg: "Credential"},
		{name: "scope date not X-Amz-Date's", after: replaceAuth("/20240501/", "/20240430/"), code: CodeAuthorizationHeaderMalformed, status: 400, msg: "day"},
		{name: "missing X-Amz-Date", after: func(r *http.Request) { r.Header.Del("X-Amz-Date") }, code: CodeAccessDenied, status: 403, msg: "X-Amz-Date is missing"},
		{name: "repeated X-Amz-Date", after: func(r *http.Request) { r.Header.Add("X-Amz-Date", "20240501T120000Z") }, code: CodeAuthorizationHeaderMalformed, status: 400, msg: "repeated"},
		{name: "malformed X-Amz-Date", after: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2024-05-01T12:00:00Z") }, code: CodeAuthorizationHeaderMalformed, status: 400, msg: "form"},
		{name: "too old", at: verifyNow.Add(-16 * time.Minute), code: CodeRequestTimeTooSkewed, status: 403, msg: "off"},
		{name: "too new", at: verifyNow.Add(16 * time.Minute), code: CodeRequestTimeTooSkewed, status: 403, msg: "off"},
		{name: "host not signed", after: replaceAuth("SignedHeaders=host;", "SignedHeaders="), code: CodeAccessDenied, status: 403, msg: "host"},
		{name: "unsorted signed headers", after: replaceAuth("SignedHeaders=host;x-amz-content-sha256", "SignedHeaders=x-amz-content-sha256;host"), code: CodeAuthorizationHeaderMalformed, status: 400, msg: "sorted"},
		{name: "signed header missing", before: func(r *http.Request) { r.Header.Set("X-Custom", "1") }, after: func(r *http.Request) { r.Header.Del("X-Custom") }, code: CodeAccessDenied, status: 403, msg: "\"x-custom\" is missing"},
		{name: "x-amz header not signed", after: func(r *http.Request) { r.Header.Set("X-Amz-Meta-Later", "1") }, code: CodeAccessDenied, status: 403, msg: "x-amz-meta-later"},
		{name: "wrong secret", creds: Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: "wrong"}, code: CodeSignatureDoesNotMatch, status: 403, msg: "does not match"},
		{name: "tampered header", after: func(r *http.Request) { r.Header.Set("X-Amz-Meta-A", "2") }, code: CodeSignatureDoesNotMatch, status: 403, msg: "does not match"},
		{name: "tampered path", after: func(r *http.Request) { r.URL.Path = "/bucket/other" }, code: CodeSignatureDoesNotMatch, status: 403, msg: "does not match"},
		{name: "tampered query", after: func(r *http.Request) { r.URL.RawQuery = "x=2" }, code: CodeSignatureDoesNotMatch, status: 403, msg: "does not match"},
		{name: "unknown key", creds: Credentials{AccessKeyID: "AKIDNOPE", SecretAccessKey: "x"}, code: CodeInvalidAccessKeyID, status: 403, msg: "AKIDNOPE"},
		{name: "store down", creds: Credentials{AccessKeyID: "AKIDBROKEN", SecretAccessKey: "x"}, code: CodeInternalError, status: 500, msg: "looking up"},
		{name: "expired credentials", creds: expiredKeys, code: CodeExpiredToken, status: 400, msg: "expired"},
		{name: "wrong token", creds: Credentials{AccessKeyID: tokenCreds.AccessKeyID, SecretAccessKey: tokenCreds.SecretAccessKey, SessionToken: "other"}, code: CodeInvalidToken, status: 403, msg: "token"},
		{name: "missing token", creds: Credentials{AccessKeyID: tokenCreds.AccessKeyID, SecretAccessKey: tokenCreds.SecretAccessKey}, code: CodeInvalidToken, status: 403, msg: "token"},
	}
	v := s3Verifier()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c, at := tc.signer, tc.creds, tc.at
			if s.Service == "" {
				s = s3
			}
			if c.AccessKeyID == "" {
				c = testCreds
			}
			if at.IsZero() {
				at = verifyNow
			}
			req, err := http.NewRequest(http.MethodGet, "http://example.com/bucket/key?x=1", nil)
			require.NoError(t, err)
			req.Header.Set("X-Amz-Meta-A", "1")
			if tc.before != nil {
				tc.before(req)
			}
			require.NoError(t, s.Sign(req, c, "", at))
			// Unmodified, it verifies (unless the credentials are the point).
			if tc.after != nil {
				_, err := v.Verify(serverRequest(req, nil))
				require.NoError(t, err)
				tc.after(req)
			}
			id, err := v.Verify(serverRequest(req, nil))
			require.Nil(t, id)
			var ve *VerifyError
			require.ErrorAs(t, err, &ve)
			require.ErrorIs(t, err, ErrNotAuthenticated)
			require.Equal(t, tc.code, ve.Code, ve.Error())
			require.Equal(t, tc.status, ve.Status)
			require.Contains(t, ve.Error(), tc.msg)
			for _, secret := range []string{testCreds.SecretAccessKey, tokenCreds.SecretAccessKey, tokenCreds.SessionToken} {
				require.NotContains(t, ve.Error(), secret)
			}

			rec := httptest.NewRecorder()
			v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler reached") })).ServeHTTP(rec, serverRequest(req, nil))
			wantStatus := http.StatusForbidden
			if tc.code == CodeInternalError {
				wantStatus = http.StatusInternalServerError
			}
			require.Equal(t, wantStatus, rec.Code)
			require.Contains(t, rec.Body.String(), "<Code>"+tc.code+"</Code>")
			if tc.code != CodeInternalError {
				require.Contains(t, rec.Body.String(), "<Message>"+xmlEscape(ve.Message)+"</Message>")
			} else {
				require.NotContains(t, rec.Body.String(), "store is down")
			}

			rec = httptest.NewRecorder()
			WriteError(rec, err)
			require.Equal(t, tc.status, rec.Code, "WriteError answers S3's status")
		})
	}
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func setQuery(k string, vs ...string) func(*http.Request) {
	return func(r *http.Request) {
		q := r.URL.Query()
		q[k] = vs
		if vs == nil {
			q.Del(k)
		}
		r.URL.RawQuery = q.Encode()
	}
}

func TestVerifyRejectsQueryForm(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	tests := []struct {
		name   string
		at     time.Time
		expiry time.Duration
		after  func(*http.Request)
		code   string
		msg    string
	}{
		{name: "expires not a number", after: setQuery("X-Amz-Expires", "abc"), code: CodeAuthorizationQueryParametersError, msg: "X-Amz-Expires"},
		{name: "expires zero", after: setQuery("X-Amz-Expires", "0"), code: CodeAuthorizationQueryParametersError, msg: "1 to 604800"},
		{name: "expires too long", after: setQuery("X-Amz-Expires", "604801"), code: CodeAuthorizationQueryParametersError, msg: "1 to 604800"},
		{name: "expires signed", after: setQuery("X-Amz-Expires", "+3600"), code: CodeAuthorizationQueryParametersError, msg: "X-Amz-Expires"},
		{name: "expires repeated", after: setQuery("X-Amz-Expires", "3600", "3600"), code: CodeAuthorizationQueryParametersError, msg: "repeated"},
		{name: "elapsed", at: verifyNow.Add(-2 * time.Hour), code: CodeAccessDenied, msg: "expired"},
		{name: "just elapsed", at: verifyNow.Add(-time.Hour), code: CodeAccessDenied, msg: "expired"},
		{name: "from the future", at: verifyNow.Add(time.Hour), code: CodeRequestTimeTooSkewed, msg: "future"},
		{name: "signature missing", after: setQuery("X-Amz-Signature"), code: CodeAuthorizationQueryParametersError, msg: "X-Amz-Signature is missing"},
		{name: "credential missing", after: setQuery("X-Amz-Credential"), code: CodeAuthorizationQueryParametersError, msg: "X-Amz-Credential is missing"},
		{name: "other algorithm", after: setQuery("X-Amz-Algorithm", "AWS4-HMAC-SHA1"), code: CodeAuthorizationQueryParametersError, msg: "not supported"},
		{name: "both forms", after: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 x") }, code: CodeAuthorizationQueryParametersError, msg: "only one"},
		{name: "bad signature", after: setQuery("X-Amz-Signature", strings.Repeat("0", 64)), code: CodeSignatureDoesNotMatch, msg: "does not match"},
		{name: "short signature", after: setQuery("X-Amz-Signature", "00"), code: CodeSignatureDoesNotMatch, msg: "does not match"},
		{name: "added parameter", after: func(r *http.Request) { r.URL.RawQuery += "&versionId=2" }, code: CodeSignatureDoesNotMatch, msg: "does not match"},
	}
	v := s3Verifier()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at, exp := tc.at, tc.expiry
			if at.IsZero() {
				at = verifyNow.Add(-time.Minute)
			}
			if exp == 0 {
				exp = time.Hour
			}
			req, err := http.NewRequest(http.MethodGet, "http://example.com/bucket/key?versionId=1", nil)
			require.NoError(t, err)
			u, err := s.Presign(req, tokenCreds, "", exp, at)
			require.NoError(t, err)
			signed, err := http.NewRequest(http.MethodGet, u.String(), nil)
			require.NoError(t, err)
			if tc.after != nil {
				id, err := v.Verify(serverRequest(signed, nil))
				require.NoError(t, err)
				require.True(t, id.Presigned)
				require.Equal(t, at.Add(exp), id.Expires)
				require.Equal(t, tokenCreds.AccountID, id.AccountID)
				tc.after(signed)
			}
			_, err = v.Verify(serverRequest(signed, nil))
			var ve *VerifyError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.code, ve.Code, ve.Error())
			require.Contains(t, ve.Error(), tc.msg)
		})
	}
}

func TestVerifyBody(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	v := s3Verifier()
	readBody := func(t *testing.T, req *http.Request, body []byte) ([]byte, error) {
		t.Helper()
		sr := serverRequest(req, body)
		_, err := v.Verify(sr)
		require.NoError(t, err)
		return io.ReadAll(sr.Body)
	}
	t.Run("hash mismatch after the whole body", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPut, "http://example.com/b/k", nil)
		require.NoError(t, err)
		req.Header.Set("X-Amz-Content-Sha256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824") // "hello"
		require.NoError(t, s.Sign(req, testCreds, "", verifyNow))
		got, err := readBody(t, req, []byte("HELLO"))
		require.Equal(t, "HELLO", string(got))
		var ve *VerifyError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, CodeXAmzContentSHA256Mismatch, ve.Code)

		got, err = readBody(t, req, []byte("hello"))
		require.NoError(t, err)
		require.Equal(t, "hello", string(got))
	})

	streaming := func(t *testing.T, body []byte) (*http.Request, *chunkReader) {
		req, err := http.NewRequest(http.MethodPut, "http://example.com/b/k", bytes.NewReader(body))
		require.NoError(t, err)
		require.NoError(t, s.SignStreaming(req, testCreds, MinChunkSize, verifyNow))
		return req, req.Body.(readCloser).Reader.(*chunkReader)
	}
	body := bytes.Repeat([]byte("x"), 3*MinChunkSize+5)
	t.Run("missing final chunk", func(t *testing.T) {
		req, rd := streaming(t, body)
		enc, err := io.ReadAll(rd)
		require.NoError(t, err)
		cut := enc[:bytes.LastIndex(enc, []byte("0;chunk-signature="))]
		got, err := readBody(t, req, cut)
		require.Equal(t, body, got, "every checked chunk was handed out")
		var ve *VerifyError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, CodeIncompleteBody, ve.Code)
		require.Contains(t, ve.Message, "final chunk")
	})
	t.Run("decoded length differs", func(t *testing.T) {
		req, rd := streaming(t, body)
		seed := *rd.seed
		seed.decoded = int64(len(body) - 5)
		enc, err := io.ReadAll(seed.reader(bytes.NewReader(body[:len(body)-5])))
		require.NoError(t, err)
		_, err = readBody(t, req, enc)
		var ve *VerifyError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, CodeIncompleteBody, ve.Code)
		require.Contains(t, ve.Message, "X-Amz-Decoded-Content-Length")
	})
	t.Run("data after the final chunk", func(t *testing.T) {
		req, rd := streaming(t, body)
		enc, err := io.ReadAll(rd)
		require.NoError(t, err)
		_, err = readBody(t, req, append(enc, "junk"...))
		require.ErrorContains(t, err, "follows the final chunk")
	})
	t.Run("read errors pass through", func(t *testing.T) {
		req, _ := streaming(t, body)
		sr := serverRequest(req, nil)
		boom := errors.New("boom")
		sr.Body = io.NopCloser(io.MultiReader(strings.NewReader("2000;chunk-sig"), errReader{boom}))
		_, err := v.Verify(sr)
		require.NoError(t, err)
		_, err = io.ReadAll(sr.Body)
		require.ErrorIs(t, err, boom)
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestVerifyAPIGateway(t *testing.T) {
	s := &Signer{Service: "execute-api", Region: "eu-west-1"}
	v := &Verifier{Service: "execute-api", Region: "eu-west-1", Credentials: lookup, Now: func() time.Time { return verifyNow }, MaxBufferedBody: 64}
	for _, path := range []string{"/prod/100%25/a%20b", "/prod/caf%C3%A9", "/prod/./x/../y"} {
		t.Run(path, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, "https://x.execute-api.eu-west-1.amazonaws.com"+path, strings.NewReader(`{"a":1}`))
			require.NoError(t, err)
			require.NoError(t, (&Transport{}).signForTest(s, req))
			sr := serverRequest(req, []byte(`{"a":1}`))
			sr.TLS = nil
			id, err := v.Verify(sr)
			require.NoError(t, err)
			require.Equal(t, "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862", id.PayloadHash)
			b, err := io.ReadAll(sr.Body)
			require.NoError(t, err)
			require.Equal(t, `{"a":1}`, string(b), "the buffered body reaches the handler")
		})
	}
	t.Run("body too large to buffer", func(t *testing.T) {
		big := strings.Repeat("x", 65)
		req, err := http.NewRequest(http.MethodPost, "https://x.execute-api.eu-west-1.amazonaws.com/prod", strings.NewReader(big))
		require.NoError(t, err)
		require.NoError(t, (&Transport{}).signForTest(s, req))
		_, err = v.Verify(serverRequest(req, []byte(big)))
		var ve *VerifyError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, CodeEntityTooLarge, ve.Code)
	})
}

// signForTest signs req as the Transport would (hashing the replayable body).
func (*Transport) signForTest(s *Signer, req *http.Request) error {
	h, err := transportPayloadHash(req)
	if err != nil {
		return err
	}
	return s.Sign(req, testCreds, h, verifyNow)
}
