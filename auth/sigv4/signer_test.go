package sigv4

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	testCreds = Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	testTime  = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
)

// canonicalOf signs req and returns the lines of its canonical request.
func canonicalOf(t *testing.T, s *Signer, req *http.Request) []string {
	t.Helper()
	var tr trace
	c := testCreds
	_, err := s.sign(req, &c, EmptyPayloadHash, testTime, &tr)
	require.NoError(t, err)
	return strings.Split(tr.canonical, "\n")
}

func TestCanonicalPath(t *testing.T) {
	s3 := &Signer{Service: "s3", Region: "us-east-1"}
	api := &Signer{Service: "execute-api", Region: "eu-west-1"}
	apiSingle := &Signer{Service: "execute-api", Region: "eu-west-1", DisableDoubleEncoding: true}
	tests := []struct {
		name   string
		signer *Signer
		url    *url.URL
		want   string
	}{
		{"s3 key with $&+=:@~ space and UTF-8", s3, &url.URL{Scheme: "https", Host: "b.s3.amazonaws.com", Path: "/a b/c$&+=:@~,ü.txt"}, "/a%20b/c%24%26%2B%3D%3A%40~%2C%C3%BC.txt"},
		{"s3 percent in key is encoded once", s3, &url.URL{Scheme: "https", Host: "s3.amazonaws.com", Path: "/bucket/100%.txt"}, "/bucket/100%25.txt"},
		{"s3 keeps dot segments and double slashes", s3, &url.URL{Scheme: "https", Host: "s3.amazonaws.com", Path: "/bucket//a/./b/../c"}, "/bucket//a/./b/../c"},
		{"s3 lower-case escapes become upper-case", s3, &url.URL{Scheme: "https", Host: "s3.amazonaws.com", Opaque: "/bucket/%c3%bc"}, "/bucket/%C3%BC"},
		{"s3 opaque //host/path", s3, &url.URL{Scheme: "https", Host: "s3.amazonaws.com", Opaque: "//s3.amazonaws.com/bucket/x%20y"}, "/bucket/x%20y"},
		{"s3 empty path", s3, &url.URL{Scheme: "https", Host: "b.s3.amazonaws.com"}, "/"},
		{"api gateway percent is encoded twice", api, &url.URL{Scheme: "https", Host: "x.execute-api.eu-west-1.amazonaws.com", Path: "/prod/100%.txt"}, "/prod/100%2525.txt"},
		{"api gateway space is encoded twice", api, &url.URL{Scheme: "https", Host: "x.execute-api.eu-west-1.amazonaws.com", Path: "/prod/a b"}, "/prod/a%2520b"},
		{"api gateway normalizes", api, &url.URL{Scheme: "https", Host: "x.execute-api.eu-west-1.amazonaws.com", Path: "/prod//a/./b/../c/"}, "/prod/a/c/"},
		{"double encoding disabled", apiSingle, &url.URL{Scheme: "https", Host: "x.execute-api.eu-west-1.amazonaws.com", Path: "/prod/100%.txt"}, "/prod/100%25.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := &http.Request{Method: http.MethodGet, URL: tc.url, Header: http.Header{}}
			require.Equal(t, tc.want, canonicalOf(t, tc.signer, req)[1])
		})
	}
}

func TestCanonicalHost(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	tests := []struct {
		url, host, want string
	}{
		{"https://example.com:443/k", "", "example.com"},
		{"http://example.com:80/k", "", "example.com"},
		{"http://127.0.0.1:9000/k", "", "127.0.0.1:9000"},
		{"http://example.com:443/k", "", "example.com:443"},
		{"https://example.com:80/k", "", "example.com:80"},
		{"https://[::1]:443/k", "", "[::1]"},
		{"http://[::1]:9000/k", "", "[::1]:9000"},
		{"https://example.com/k", "other.example.com:8443", "other.example.com:8443"},
	}
	for _, tc := range tests {
		t.Run(tc.url+" "+tc.host, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tc.url, nil)
			require.NoError(t, err)
			if tc.host != "" {
				req.Host = tc.host
			}
			lines := canonicalOf(t, s, req)
			require.Equal(t, "host:"+tc.want, lines[3])
			sent := req.Host
			if sent == "" {
				sent = req.URL.Host
			}
			require.Equal(t, tc.want, sent, "the Host sent is the one signed")
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	tests := []struct{ raw, want string }{
		{"b=2&a=1&a=0", "a=0&a=1&b=2"},
		{"prefix=a+b&delimiter=%2F", "delimiter=%2F&prefix=a%20b"},
		{"x=%7e&y=%7E", "x=~&y=~"},
		{"uploads", "uploads="},
		{"list-type=2&prefix=d%C3%BC/$", "list-type=2&prefix=d%C3%BC%2F%24"},
		{"a=1&&b", "a=1&b="},
		{"k=a=b", "k=a%3Db"},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: "h", Path: "/", RawQuery: tc.raw}}
			require.Equal(t, tc.want, canonicalOf(t, s, req)[2])
		})
	}
}

func TestCanonicalHeaders(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	req, err := http.NewRequest(http.MethodPut, "https://b.s3.amazonaws.com/k", strings.NewReader("x"))
	require.NoError(t, err)
	req.Header.Set("User-Agent", "test")
	req.Header.Set("Expect", "100-continue")
	req.Header.Set("X-Amzn-Trace-Id", "Root=1")
	req.Header.Set("Connection", "close")
	req.Header.Set("Transfer-Encoding", "chunked")
	req.Header.Add("X-Amz-Meta-A", "  one   two ")
	req.Header.Add("X-Amz-Meta-A", "three")
	req.Header["x-amz-meta-b"] = []string{"lower"}
	req.Header.Set("Content-Length", "1")

	var tr trace
	c := testCreds
	_, err = s.sign(req, &c, UnsignedPayload, testTime, &tr)
	require.NoError(t, err)
	require.Equal(t, "content-length;host;x-amz-content-sha256;x-amz-date;x-amz-meta-a;x-amz-meta-b", tr.signedHeaders)
	require.Contains(t, tr.canonical, "\nx-amz-meta-a:one two,three\nx-amz-meta-b:lower\n")
	require.Equal(t, UnsignedPayload, req.Header.Get("X-Amz-Content-Sha256"))

	req.Header.Set("Content-Length", "2")
	err = s.Sign(req, testCreds, UnsignedPayload, testTime)
	require.ErrorIs(t, err, ErrInvalidRequest)
	require.ErrorContains(t, err, "Content-Length")
}

func TestSignIsRepeatable(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	creds := testCreds
	creds.SessionToken = "token"
	req, err := http.NewRequest(http.MethodGet, "https://b.s3.amazonaws.com/k", nil)
	require.NoError(t, err)
	require.NoError(t, s.Sign(req, creds, "", testTime))
	first := req.Header.Clone()
	require.NoError(t, s.Sign(req, creds, "", testTime))
	require.Equal(t, first, req.Header)
	require.Equal(t, "token", req.Header.Get("X-Amz-Security-Token"))
	require.Equal(t, EmptyPayloadHash, req.Header.Get("X-Amz-Content-Sha256"))
	require.Contains(t, req.Header.Get("Authorization"), "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,")

	// A later day signs differently and replaces the date.
	require.NoError(t, s.Sign(req, creds, "", testTime.Add(24*time.Hour)))
	require.Equal(t, "20150831T123600Z", req.Header.Get("X-Amz-Date"))
	require.NotEqual(t, first.Get("Authorization"), req.Header.Get("Authorization"))
}

func TestSignReplacesOtherSpellings(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	req, err := http.NewRequest(http.MethodGet, "https://b.s3.amazonaws.com:443/k", nil)
	require.NoError(t, err)
	req.Header["x-amz-date"] = []string{"old"}
	req.Header["authorization"] = []string{"old"}
	req.Header["x-amz-content-sha256"] = []string{"old"}
	creds := testCreds
	creds.SessionToken = "tok"
	req.Header["x-amz-security-token"] = []string{"old"}

	// A failing Sign changes nothing.
	req.Header["Bad Name"] = []string{"x"}
	before := req.Header.Clone()
	require.ErrorIs(t, s.Sign(req, creds, "", testTime), ErrInvalidRequest)
	require.Equal(t, before, req.Header)
	require.Equal(t, "b.s3.amazonaws.com:443", req.Host)

	delete(req.Header, "Bad Name")
	require.NoError(t, s.Sign(req, creds, "", testTime))
	require.Equal(t, http.Header{
		"X-Amz-Date":           {"20150830T123600Z"},
		"Authorization":        {req.Header.Get("Authorization")},
		"X-Amz-Content-Sha256": {EmptyPayloadHash},
		"X-Amz-Security-Token": {"tok"},
	}, req.Header)
	require.Equal(t, "b.s3.amazonaws.com", req.Host)
}

func TestSignErrors(t *testing.T) {
	s3 := &Signer{Service: "s3", Region: "us-east-1"}
	get := func() *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "https://b.s3.amazonaws.com/k", nil)
		return r
	}
	tests := []struct {
		name   string
		signer *Signer
		creds  Credentials
		req    *http.Request
		hash   string
		want   error
		msg    string
	}{
		{"zero signer", &Signer{}, testCreds, get(), "", ErrInvalidSigner, "Service and Region"},
		{"nil signer", nil, testCreds, get(), "", ErrInvalidSigner, "nil"},
		{"region with slash", &Signer{Service: "s3", Region: "us/east"}, testCreds, get(), "", ErrInvalidSigner, "us/east"},
		{"no access key", s3, Credentials{SecretAccessKey: "x"}, get(), "", ErrNoCredentials, "access key ID is empty"},
		{"no secret", s3, Credentials{AccessKeyID: "AKID"}, get(), "", ErrNoCredentials, "secret access key"},
		{"access key with slash", s3, Credentials{AccessKeyID: "AK/ID", SecretAccessKey: "x"}, get(), "", ErrNoCredentials, "access key ID"},
		{"bad payload hash", s3, testCreds, get(), "abc", ErrInvalidRequest, "payload hash"},
		{"upper-case hex payload hash", s3, testCreds, get(), strings.ToUpper(EmptyPayloadHash), ErrInvalidRequest, "payload hash"},
		{"body without hash", s3, testCreds, func() *http.Request {
			r, _ := http.NewRequest(http.MethodPut, "https://b.s3.amazonaws.com/k", strings.NewReader("x"))
			return r
		}(), "", ErrInvalidRequest, "no payload hash"},
		{"no host", s3, testCreds, &http.Request{Method: "GET", URL: &url.URL{Path: "/k"}}, "", ErrInvalidRequest, "no host"},
		{"nil URL", s3, testCreds, &http.Request{Method: "GET"}, "", ErrInvalidRequest, "nil request or URL"},
		{"bad query escape", s3, testCreds, &http.Request{Method: "GET", URL: &url.URL{Scheme: "https", Host: "h", Path: "/", RawQuery: "a=%zz"}}, "", ErrInvalidRequest, "valid escape"},
		{"bad opaque", s3, testCreds, &http.Request{Method: "GET", URL: &url.URL{Scheme: "https", Host: "h", Opaque: "x:y"}}, "", ErrInvalidRequest, "Opaque"},
		{"bad header name", s3, testCreds, func() *http.Request {
			r := get()
			r.Header["Bad Name"] = []string{"x"}
			return r
		}(), "", ErrInvalidRequest, "\"Bad Name\" is not a valid HTTP token"},
		{"bad path escape", s3, testCreds, &http.Request{Method: "GET", URL: &url.URL{Scheme: "https", Host: "h", Opaque: "/a%2"}}, "", ErrInvalidRequest, "valid escape"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.signer.Sign(tc.req, tc.creds, tc.hash, testTime)
			require.ErrorIs(t, err, tc.want)
			require.ErrorContains(t, err, tc.msg)
			require.NotContains(t, err.Error(), testCreds.SecretAccessKey)
			if tc.req != nil && tc.req.Header != nil {
				require.Empty(t, tc.req.Header.Get("Authorization"))
			}
		})
	}
}

func TestPresign(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	creds := testCreds
	creds.SessionToken = "tok/en+="
	req, err := http.NewRequest(http.MethodGet, "https://b.s3.amazonaws.com/a%20b?versionId=3&X-Amz-Signature=old&X-Amz-Expires=5", nil)
	require.NoError(t, err)
	req.Header.Set("User-Agent", "ua")
	orig := req.URL.String()

	u, err := s.Presign(req, creds, "", time.Hour, testTime)
	require.NoError(t, err)
	require.Equal(t, orig, req.URL.String(), "the request is left unchanged")
	require.Empty(t, req.Header.Get("Authorization"))
	q := u.Query()
	require.Equal(t, []string{"3600"}, q["X-Amz-Expires"])
	require.Len(t, q["X-Amz-Signature"], 1)
	require.NotEqual(t, "old", q.Get("X-Amz-Signature"))
	require.Equal(t, "tok/en+=", q.Get("X-Amz-Security-Token"))
	require.Equal(t, "host", q.Get("X-Amz-SignedHeaders"))
	require.Equal(t, "3", q.Get("versionId"))
	require.Equal(t, "/a%20b", u.EscapedPath())

	for _, d := range []time.Duration{0, 999 * time.Millisecond, MaxPresignExpiry + time.Second, -time.Hour} {
		_, err := s.Presign(req, creds, "", d, testTime)
		require.ErrorIs(t, err, ErrInvalidRequest, "expiry %v", d)
		require.ErrorContains(t, err, "expiry")
	}
	_, err = s.Presign(req, creds, "", MaxPresignExpiry, testTime)
	require.NoError(t, err)

	req, err = http.NewRequest(http.MethodGet, "https://b.s3.amazonaws.com:443/k", nil)
	require.NoError(t, err)
	u, err = s.Presign(req, creds, "", time.Minute, testTime)
	require.NoError(t, err)
	require.Equal(t, "b.s3.amazonaws.com", u.Host, "the URL carries the host as signed")
	require.Equal(t, "b.s3.amazonaws.com:443", req.URL.Host, "the request is left unchanged")
}

func TestHMACMatchesCryptoHMAC(t *testing.T) {
	k := deriveKey("secret", []byte("20240501"), "eu-west-1", "execute-api")
	for _, msg := range []string{"", "x", strings.Repeat("m", 55), strings.Repeat("m", 56), strings.Repeat("m", 64), strings.Repeat("m", 300)} {
		st := hmacPool.Get().(*hmacState)
		require.Equal(t, k.slowSum([]byte(msg)), k.sum(st, []byte(msg)), "len %d", len(msg))
	}
}

func TestSplitTime(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 23, 59, 59, 999, time.UTC),
		time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 12, 31, 12, 30, 45, 0, time.FixedZone("x", -5*3600)),
		time.Date(2100, 3, 1, 1, 2, 3, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		u := at.UTC()
		y, m, d := u.Date()
		hh, mm, ss := u.Clock()
		require.Equal(t, timeParts{y, int(m), d, hh, mm, ss}, splitTime(at), at.String())
		require.Equal(t, u.Format("20060102T150405Z"), string(appendAmzDate(nil, splitTime(at))))
	}
	for i := 0; i < 2000; i++ {
		at := time.Unix(int64(i)*7919*86400/13+int64(i)*3571, 0)
		u := at.UTC()
		require.Equal(t, u.Format("20060102T150405Z"), string(appendAmzDate(nil, splitTime(at))), at.String())
	}
}

func TestSortHeaders(t *testing.T) {
	// Names that share long prefixes (past the 16 bytes compared as words),
	// that are prefixes of one another, and that repeat (as case variants
	// do, to check that the sort is stable); both the insertion sort (up to
	// 32) and the general one.
	stems := []string{"x-amz-meta-", "x-amz-meta-long-shared-prefix-", "a", "amz-sdk-", "amz-sdk-invocation-id", "x-amz-content-sha256", "x-amz-content-sha256-"}
	for n := 0; n <= 40; n++ {
		for seed := 0; seed < 20; seed++ {
			var l headerList
			want := make([]string, n)
			for i := range n {
				r := (i*7919 + seed*31) % (n/2 + 1)
				name := stems[(r+seed)%len(stems)]
				if r%3 != 0 {
					name += fmt.Sprintf("%d", r%5)
				}
				if i%2 == 1 {
					name = strings.ToUpper(name)
				}
				at := len(l.names)
				var ok bool
				l.names, ok = appendLowerToken(l.names, name)
				require.True(t, ok, name)
				l.hs = addLower(l.hs, l.names, at, nil, i)
				l.hs[i].raw = fmt.Sprint(i)
				want[i] = strings.ToLower(name) + "#" + fmt.Sprint(i)
			}
			slices.SortStableFunc(want, func(a, b string) int {
				an, _, _ := strings.Cut(a, "#")
				bn, _, _ := strings.Cut(b, "#")
				return strings.Compare(an, bn)
			})
			l.ord = sortHeaders(nil, l)
			got := make([]string, n)
			for i, o := range l.ord {
				h := l.hs[o]
				got[i] = string(l.names[h.ls:h.le]) + "#" + h.raw
			}
			require.Equal(t, want, got, "n=%d seed=%d", n, seed)
		}
	}
}

func TestAppendLowerToken(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		ok      bool
	}{
		{"X-Amz-Meta-Ab", "x-amz-meta-ab", true},
		{"!#$%&'*+-.^_`|~09azAZ", "!#$%&'*+-.^_`|~09azaz", true},
		{"", "", false},
		{"a b", "", false},
		{"a:b", "", false},
		{"a\nb", "", false},
		{"caf\xc3\xa9", "", false},
		{"(x)", "", false},
	} {
		b, ok := appendLowerToken([]byte("pre"), tc.in)
		require.Equal(t, tc.ok, ok, "%q", tc.in)
		if ok {
			require.Equal(t, "pre"+tc.out, string(b))
		}
	}
}

// TestLowerTokenEveryByte checks the word-at-a-time path of
// appendLowerToken against the byte table: every byte value at every place
// of names from 1 to 24 bytes long.
func TestLowerTokenEveryByte(t *testing.T) {
	ref := func(s string) (string, bool) {
		if s == "" {
			return "", false
		}
		out := make([]byte, len(s))
		for i := 0; i < len(s); i++ {
			if !tokenChar[s[i]] {
				return "", false
			}
			out[i] = lower(s[i])
		}
		return string(out), true
	}
	everyByteEverywhere("Amz-Sdk-Invocation-Id-X9", func(name string) {
		want, wantOK := ref(name)
		got, ok := appendLowerToken(nil, name)
		require.Equal(t, wantOK, ok, "%q", name)
		if ok {
			require.Equal(t, want, string(got), "%q", name)
		}
	})
}

// everyByteEverywhere calls f with each prefix of base (1 byte long and up)
// with each byte value put at each of its places.
func everyByteEverywhere(base string, f func(string)) {
	for n := 1; n <= len(base); n++ {
		for p := 0; p < n; p++ {
			for c := 0; c < 256; c++ {
				s := []byte(base[:n])
				s[p] = byte(c)
				f(string(s))
			}
		}
	}
}

// TestIsTrimmed checks the word-at-a-time isTrimmed against its definition
// (what appendTrimmed would change), with every byte value at every place.
func TestIsTrimmed(t *testing.T) {
	slowTrim := func(v string) string {
		return strings.Join(strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }), " ")
	}
	everyByteEverywhere("attempt=1;max=3;abcdefgh", func(v string) {
		if isTrimmed(v) {
			require.Equal(t, v, slowTrim(v), "%q", v)
		} else {
			require.NotEqual(t, v, slowTrim(v), "%q", v)
		}
		require.Equal(t, slowTrim(v), string(appendTrimmed(nil, v)), "%q", v)
	})
	for _, v := range []string{"", " ", "a  b", "a b", " a", "a ", "a\tb", "12345678 12345678", "12345678  12345678", "1234567\x01"} {
		require.Equal(t, slowTrim(v), string(appendTrimmed(nil, v)), "%q", v)
	}
}

func TestPutHex(t *testing.T) {
	src := make([]byte, 37)
	for i := range src {
		src[i] = byte(i * 7)
	}
	for n := 0; n <= len(src); n++ {
		dst := make([]byte, 2*n)
		putHex(dst, src[:n])
		require.Equal(t, hex.EncodeToString(src[:n]), string(dst))
	}
	for c := 0; c < 256; c++ {
		dst := make([]byte, 8)
		putHex(dst, []byte{byte(c), byte(255 - c), byte(c ^ 0x5a), byte(c)})
		require.Equal(t, hex.EncodeToString([]byte{byte(c), byte(255 - c), byte(c ^ 0x5a), byte(c)}), string(dst))
	}
}

func TestSigningTimeRange(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	for _, at := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC)} {
		req, err := http.NewRequest(http.MethodGet, "https://b.s3.amazonaws.com/k", nil)
		require.NoError(t, err)
		err = s.Sign(req, testCreds, EmptyPayloadHash, at)
		require.ErrorIs(t, err, ErrInvalidRequest)
		require.Contains(t, err.Error(), "outside the years 0000 to 9999")
		require.Empty(t, req.Header.Get("Authorization"))
		_, err = s.Presign(req, testCreds, "", time.Hour, at)
		require.ErrorIs(t, err, ErrInvalidRequest)
	}
	for _, at := range []time.Time{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)} {
		req, err := http.NewRequest(http.MethodGet, "https://b.s3.amazonaws.com/k", nil)
		require.NoError(t, err)
		require.NoError(t, s.Sign(req, testCreds, EmptyPayloadHash, at))
		require.Equal(t, at.Format("20060102T150405Z"), req.Header.Get("X-Amz-Date"))
	}
}

// TestScopeAndKeyBytes checks the byte tables of Service/Region and access
// key IDs against their definitions, for every byte value.
func TestScopeAndKeyBytes(t *testing.T) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		scope := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_' || b == '.'
		require.Equal(t, scope, scopePart(string([]byte{'x', b})), "%q", b)
		akid := b > ' ' && b < 0x7f && b != '/' && b != ',' && b != '='
		err := checkCredentials(&Credentials{AccessKeyID: "AKID" + string([]byte{b}), SecretAccessKey: "s"})
		require.Equal(t, akid, err == nil, "%q", b)
	}
}

// TestGatherSkipsWhatSkipHeaderNames checks that the keys gather leaves out
// without lowering them are exactly the canonical spellings of the names
// skipHeader leaves out once lowered (the two lists must not drift apart).
func TestGatherSkipsWhatSkipHeaderNames(t *testing.T) {
	for _, name := range []string{"te", "host", "expect", "upgrade", "user-agent", "connection", "keep-alive",
		"x-amz-date", "authorization", "x-amzn-trace-id", "proxy-connection", "transfer-encoding", "proxy-authorization"} {
		require.True(t, skipHeader([]byte(name)), name)
		cands, _ := gather(nil, http.Header{http.CanonicalHeaderKey(name): {"v"}, "X-Kept": {"v"}}, collectOptions{})
		require.Len(t, cands, 1, name)
		require.Equal(t, "X-Kept", cands[0].key)
	}
	require.False(t, skipHeader([]byte("x-kept")))
}

// TestSetHeadersDoNotShareCapacity checks that appending to one header Sign
// set does not write into another's value (they share one array).
func TestSetHeadersDoNotShareCapacity(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	req, err := http.NewRequest(http.MethodGet, "https://b.s3.amazonaws.com/k", nil)
	require.NoError(t, err)
	require.NoError(t, s.Sign(req, tokenCreds, EmptyPayloadHash, testTime))
	auth := req.Header.Get("Authorization")
	req.Header.Add("X-Amz-Date", "x")
	req.Header.Add("Authorization", "x")
	req.Header.Add("X-Amz-Content-Sha256", "x")
	require.Equal(t, auth, req.Header.Get("Authorization"))
	require.Equal(t, EmptyPayloadHash, req.Header.Get("X-Amz-Content-Sha256"))
	require.Equal(t, []string{tokenCreds.SessionToken}, req.Header["X-Amz-Security-Token"])
}
