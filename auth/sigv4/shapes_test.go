package sigv4

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// signShapes are requests of several shapes: plain, with Content-Length,
// keys not in canonical form, one name in two spellings, strays of the
// headers the signer sets, a header left out once lowered, and more headers
// than the signer's stack arrays hold.
func signShapes(t testing.TB, round int) map[string]*http.Request {
	t.Helper()
	newReq := func(method, url string) *http.Request {
		req, err := http.NewRequest(method, url, nil)
		require.NoError(t, err)
		return req
	}
	v := fmt.Sprintf("v%d", round)
	shapes := map[string]*http.Request{}

	r := newReq(http.MethodGet, "https://b.s3.us-east-1.amazonaws.com/k?x-id=GetObject")
	r.Header.Set("User-Agent", "ua "+v)
	r.Header.Set("Accept-Encoding", "identity")
	r.Header.Set("Amz-Sdk-Invocation-Id", "id-"+v)
	r.Header.Set("Amz-Sdk-Request", "attempt=1;  max=3 ")
	r.Header.Set("X-Amz-Checksum-Mode", "ENABLED")
	shapes["sdk get"] = r

	r = newReq(http.MethodGet, "https://b.s3.us-east-1.amazonaws.com/other")
	r.Header.Set("Range", "bytes=0-"+fmt.Sprint(round))
	r.Header.Add("X-Amz-Meta-Multi", "a")
	r.Header.Add("X-Amz-Meta-Multi", " b  c ")
	r.Header["X-Amz-Meta-Empty"] = []string{}
	shapes["multi values"] = r

	r = newReq(http.MethodPut, "https://b.s3.us-east-1.amazonaws.com/put")
	r.ContentLength = 5
	r.Header.Set("Content-Length", "5")
	r.Header.Set("Content-Type", "text/plain")
	shapes["put with length"] = r

	r = newReq(http.MethodGet, "https://b.s3.us-east-1.amazonaws.com/lower")
	r.Header["x-amz-meta-lower"] = []string{v}
	r.Header["accept"] = []string{"*/*"}
	shapes["lower-case keys"] = r

	r = newReq(http.MethodGet, "https://b.s3.us-east-1.amazonaws.com/twice")
	r.Header["X-Amz-Meta-Twice"] = []string{"one"}
	r.Header["x-amz-meta-twice"] = []string{"two"}
	shapes["two spellings"] = r

	r = newReq(http.MethodGet, "https://b.s3.us-east-1.amazonaws.com/stray")
	r.Header["x-amz-date"] = []string{"19990101T000000Z"}
	r.Header["authorization"] = []string{"old"}
	r.Header["x-amz-content-sha256"] = []string{"old"}
	shapes["strays"] = r

	r = newReq(http.MethodGet, "https://b.s3.us-east-1.amazonaws.com/dropped")
	r.Header["user-agent"] = []string{"lower-case agent " + v}
	r.Header["HOST"] = []string{"ignored"}
	shapes["left out once lowered"] = r

	r = newReq(http.MethodGet, "https://b.s3.us-east-1.amazonaws.com/many")
	for i := range 20 {
		r.Header.Set(fmt.Sprintf("X-Amz-Meta-H%02d", i), v)
	}
	shapes["many headers"] = r
	return shapes
}

// TestSignShapes signs each shape, with and without a session token, and
// checks each signature with the Verifier, as the request is received.
func TestSignShapes(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	for round := range 2 {
		for name, req := range signShapes(t, round) {
			for _, c := range []Credentials{testCreds, tokenCreds} {
				t.Run(fmt.Sprintf("%s/%s/%d", name, c.AccessKeyID, round), func(t *testing.T) {
					r := req.Clone(req.Context())
					require.NoError(t, s.Sign(r, c, EmptyPayloadHash, verifyNow))
					_, err := s3Verifier().Verify(asReceived(r))
					require.NoError(t, err)
				})
			}
		}
	}
}

// TestSignConcurrent signs shapes from many goroutines at once (run it
// with -race), each signature checked by the Verifier.
func TestSignConcurrent(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 40 {
				for name, req := range signShapes(t, g*100+round) {
					c := testCreds
					if round%2 == 1 {
						c = tokenCreds
					}
					if err := s.Sign(req, c, EmptyPayloadHash, verifyNow.Add(time.Duration(round)*time.Second)); err != nil {
						errs <- fmt.Errorf("%s: %w", name, err)
						return
					}
					req = asReceived(req)
					v := s3Verifier()
					at := verifyNow.Add(time.Duration(round) * time.Second)
					v.Now = func() time.Time { return at }
					if _, err := v.Verify(req); err != nil {
						errs <- fmt.Errorf("%s: %w", name, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// asReceived returns req as a server reads it after net/http sent it: the
// header lines written in the order of their keys, their names made
// canonical (the values of one name in two spellings joined in that order),
// Content-Length in req.ContentLength alone.
func asReceived(req *http.Request) *http.Request {
	r := req.Clone(req.Context())
	r.Header = http.Header{}
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if http.CanonicalHeaderKey(k) == "Content-Length" || http.CanonicalHeaderKey(k) == "Host" {
			continue
		}
		for _, v := range req.Header[k] {
			r.Header.Add(k, v)
		}
	}
	return r
}
