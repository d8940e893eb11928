package sigv4

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// layoutShapes are requests of several shapes: plain, with a session token,
// Content-Length, keys not in canonical form, one name in two spellings,
// strays of the headers the signer sets, a header left out once lowered,
// and more headers than a layout holds.
func layoutShapes(t testing.TB, round int) map[string]*http.Request {
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

// TestLayoutMatchesWholeWay signs each shape again and again (so that its
// layout is kept and then used) and checks each canonical request and
// Authorization against the whole way, and each signature with the
// Verifier.
func TestLayoutMatchesWholeWay(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	creds := []Credentials{testCreds, tokenCreds}
	for round := range 6 {
		for name, req := range layoutShapes(t, round) {
			for _, c := range creds {
				t.Run(fmt.Sprintf("%s/%s/%d", name, c.AccessKeyID, round), func(t *testing.T) {
					a, b := req.Clone(req.Context()), req.Clone(req.Context())
					var ta, tb trace
					_, err := s.sign(a, &c, EmptyPayloadHash, verifyNow, &ta)
					require.NoError(t, err)
					layoutsOff = true
					_, err = s.sign(b, &c, EmptyPayloadHash, verifyNow, &tb)
					layoutsOff = false
					require.NoError(t, err)
					require.Equal(t, tb.canonical, ta.canonical)
					require.Equal(t, b.Header, a.Header)
					_, err = s3Verifier().Verify(asReceived(a))
					require.NoError(t, err)
				})
			}
		}
	}
	// Clean shapes get a layout once signed twice; the others never do.
	defer resetLayouts()
	for name, want := range map[string]bool{"sdk get": true, "multi values": true, "put with length": true, "lower-case keys": true,
		"two spellings": false, "strays": false, "left out once lowered": false, "many headers": false} {
		for _, c := range creds {
			resetLayouts()
			for range 2 {
				require.NoError(t, s.Sign(layoutShapes(t, 0)[name], c, EmptyPayloadHash, verifyNow))
			}
			req := layoutShapes(t, 0)[name]
			o := collectOptions{sha: true, token: c.SessionToken != ""}
			cands, fp, _ := gather(nil, req.Header, o)
			lay := findLayout(fp, len(cands), o)
			var vals [maxLayout][]string
			require.Equal(t, want, lay != nil && lay.match(cands, &vals), "%s with %s", name, c.AccessKeyID)
		}
	}
}

// TestLayoutSlotsCollide signs two shapes that share a slot in the first
// table, taking turns: both get a layout, one in each table.
func TestLayoutSlotsCollide(t *testing.T) {
	defer resetLayouts()
	resetLayouts()
	s := &Signer{Service: "s3", Region: "us-east-1"}
	o := collectOptions{sha: true}
	shape := func(i int) *http.Request {
		req, err := http.NewRequest(http.MethodGet, "https://b.s3.us-east-1.amazonaws.com/k", nil)
		require.NoError(t, err)
		req.Header.Set(fmt.Sprintf("X-Amz-Meta-N%d", i), "v")
		return req
	}
	fpOf := func(i int) uint64 {
		_, fp, _ := gather(nil, shape(i).Header, o)
		return fp
	}
	// Find two shapes in one slot of table 0 and different slots of table 1.
	first, second := 0, -1
	a0, b0 := layoutSlots(fpOf(0))
	for i := 1; i < 100000 && second < 0; i++ {
		if a, b := layoutSlots(fpOf(i)); a == a0 && b != b0 {
			second = i
		}
	}
	require.GreaterOrEqual(t, second, 0)
	for range 3 {
		for _, i := range []int{first, second} {
			require.NoError(t, s.Sign(shape(i), testCreds, EmptyPayloadHash, verifyNow))
		}
	}
	for _, i := range []int{first, second} {
		cands, fp, _ := gather(nil, shape(i).Header, o)
		require.NotNil(t, findLayout(fp, len(cands), o), "shape %d", i)
	}
}

// TestLayoutNotKeptOnce checks that a shape seen once keeps no layout.
func TestLayoutNotKeptOnce(t *testing.T) {
	defer resetLayouts()
	resetLayouts()
	s := &Signer{Service: "s3", Region: "us-east-1"}
	req, err := http.NewRequest(http.MethodGet, "https://b.s3.us-east-1.amazonaws.com/once", nil)
	require.NoError(t, err)
	req.Header.Set("X-Amz-Meta-Seen-Once-"+strings.Repeat("z", 9), "1")
	require.NoError(t, s.Sign(req, testCreds, EmptyPayloadHash, verifyNow))
	o := collectOptions{sha: true}
	cands, fp, _ := gather(nil, req.Header, o)
	require.Nil(t, findLayout(fp, len(cands), o))
	require.NoError(t, s.Sign(req, testCreds, EmptyPayloadHash, verifyNow))
	require.NotNil(t, findLayout(fp, len(cands), o), "kept the second time")
}

// TestLayoutConcurrent signs shapes from many goroutines at once (run it
// with -race), each signature checked by the Verifier.
func TestLayoutConcurrent(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 40 {
				for name, req := range layoutShapes(t, g*100+round) {
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

// FuzzLayout signs requests with up to three headers of any keys and values
// three times (so that their layout is kept, then used) and checks each
// canonical request and the headers set against the whole way.
func FuzzLayout(f *testing.F) {
	f.Add("X-Amz-Meta-A", "1", "x-amz-meta-a", "2", "Accept", " a  b ", true)
	f.Add("Content-Type", "text/plain", "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD", "x-amz-date", "x", false)
	f.Add("Amz-Sdk-Request", "attempt=1; max=3", "USER-AGENT", "ua", "Range", "bytes=0-1", true)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string, token bool) {
		s := &Signer{Service: "s3", Region: "us-east-1"}
		c := testCreds
		if token {
			c = tokenCreds
		}
		for i := range 3 {
			req, err := http.NewRequest(http.MethodGet, "https://b.s3.us-east-1.amazonaws.com/k", nil)
			require.NoError(t, err)
			for j, kv := range [][2]string{{k1, v1}, {k2, v2}, {k3, v3}} {
				if kv[0] != "" {
					req.Header[kv[0]] = append(req.Header[kv[0]], kv[1]+strings.Repeat("'", i+j))
				}
			}
			a, b := req.Clone(req.Context()), req.Clone(req.Context())
			var ta, tb trace
			_, errA := s.sign(a, &c, EmptyPayloadHash, verifyNow, &ta)
			layoutsOff = true
			_, errB := s.sign(b, &c, EmptyPayloadHash, verifyNow, &tb)
			layoutsOff = false
			if errB != nil {
				require.Error(t, errA)
				return
			}
			require.NoError(t, errA)
			require.Equal(t, tb.canonical, ta.canonical)
			require.Equal(t, b.Header, a.Header)
		}
	})
}
