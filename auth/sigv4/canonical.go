package sigv4

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

const hexUpper = "0123456789ABCDEF"
const hexLower = "0123456789abcdef"

// unreserved marks the RFC 3986 unreserved characters, the only bytes SigV4
// leaves unencoded (besides '/' in paths).
var unreserved = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['.'], t['_'], t['~'] = true, true, true, true
	return t
}()

// tokenChar marks the bytes allowed in an HTTP header name (RFC 9110 token).
var tokenChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = unreserved[c]
	}
	for _, c := range "!#$%&'*+^`|" {
		t[c] = true
	}
	return t
}()

// lowerToken maps each byte allowed in an HTTP header name (RFC 9110
// token) to its lower case, and every other byte to 0.
var lowerToken = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		if tokenChar[c] {
			t[c] = lower(byte(c))
		}
	}
	return t
}()

// appendEncoded appends s with every byte but the unreserved ones (and '/'
// when keepSlash) percent-encoded in upper-case hex.
func appendEncoded[S ~string | ~[]byte](b []byte, s S, keepSlash bool) []byte {
	if plain(s, keepSlash) {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved[c] || (keepSlash && c == '/') {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
	}
	return b
}

// plain reports whether s holds only unreserved bytes (and '/' when
// keepSlash), so that it encodes to itself.
func plain[S ~string | ~[]byte](s S, keepSlash bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreserved[c] && !(keepSlash && c == '/') {
			return false
		}
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendReencoded decodes the percent-escapes of s (and '+' as a space when
// plusSpace) and appends the result encoded the SigV4 way. ok is false when s
// holds a '%' that does not start a valid escape.
func appendReencoded(b []byte, s string, keepSlash, plusSpace bool) ([]byte, bool) {
	if plain(s, keepSlash) {
		return append(b, s...), true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return b, false
			}
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return b, false
			}
			c = h<<4 | l
			i += 2
		case c == '+' && plusSpace:
			c = ' '
		}
		if unreserved[c] || (keepSlash && c == '/') {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
	}
	return b, true
}

// wirePath returns the path as it goes on the wire: URL.Opaque when set (as
// "/path" or "//host/path"), else URL.EscapedPath(); "" becomes "/".
func wirePath(u *url.URL) (string, error) {
	if u.Opaque != "" {
		p := u.Opaque
		if strings.HasPrefix(p, "//") {
			i := strings.IndexByte(p[2:], '/')
			if i < 0 {
				return "/", nil
			}
			return p[2+i:], nil
		}
		if p[0] != '/' {
			return "", fmt.Errorf("%w: URL.Opaque %q is neither /path nor //host/path", ErrInvalidRequest, p)
		}
		return p, nil
	}
	if u.RawPath == "" && u.Path != "" && plain(u.Path, true) {
		return u.Path, nil // what EscapedPath returns, without its scan
	}
	p := u.EscapedPath()
	if p == "" {
		return "/", nil
	}
	return p, nil
}

// normalizePath removes "." and ".." segments and empty segments ("//")
// the way RFC 3986 section 5.2.4 does, keeping a trailing slash.
func normalizePath(p string) string {
	if !needsNormalizing(p) {
		return p
	}
	segs := make([]string, 0, strings.Count(p, "/"))
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	if len(segs) == 0 {
		return "/"
	}
	out := "/" + strings.Join(segs, "/")
	if strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..") {
		out += "/"
	}
	return out
}

func needsNormalizing(p string) bool {
	if p == "" || p[0] != '/' {
		return true
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		rest := p[i+1:]
		if strings.HasPrefix(rest, "/") && i+1 < len(p) {
			return true
		}
		if rest == "." || rest == ".." || strings.HasPrefix(rest, "./") || strings.HasPrefix(rest, "../") {
			return true
		}
	}
	return false
}

// appendCanonicalPath appends the canonical URI of path. With doubleEncode
// every byte of the wire path is encoded once more ("%" becomes "%25"); without
// it the wire path is decoded and encoded once, as S3 does.
func appendCanonicalPath(b []byte, path string, normalize, doubleEncode bool) ([]byte, error) {
	if normalize {
		path = normalizePath(path)
	}
	if doubleEncode {
		return appendEncoded(b, path, true), nil
	}
	b, ok := appendReencoded(b, path, true, false)
	if !ok {
		return b, fmt.Errorf("%w: path %q holds a %% that is not a valid escape", ErrInvalidRequest, path)
	}
	return b, nil
}

// canonicalHost returns req.Host (else URL.Host) without the scheme's default
// port.
func canonicalHost(req *http.Request, https bool) string {
	h := req.Host
	if h == "" && req.URL != nil {
		h = req.URL.Host
	}
	// The port is the digits after the last ':' (none in the usual case: a
	// name that ends in a letter); "[::1]" ends in ']' and has none.
	i := len(h) - 1
	for i >= 0 && '0' <= h[i] && h[i] <= '9' {
		i--
	}
	if i < 0 || h[i] != ':' {
		return h
	}
	switch h[i+1:] {
	case "":
		return h[:i]
	case "443":
		if https {
			return h[:i]
		}
	case "80":
		if !https {
			return h[:i]
		}
	}
	return h
}

// qpair is one query parameter, encoded, as offsets into a scratch buffer.
type qpair struct{ ks, ke, vs, ve int }

// Which parameters parseRawQuery leaves out.
const (
	skipNone      = iota
	skipSignature // X-Amz-Signature (verifying a presigned URL)
	skipPresign   // every parameter Presign sets (presigning)
)

// nextParam cuts the first non-empty parameter ("k=v", or "k" with an empty
// value) off a raw query string; more is false when there is none.
func nextParam(raw string) (k, v, rest string, more bool) {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part != "" {
			k, v, _ = strings.Cut(part, "=")
			return k, v, raw, true
		}
	}
	return "", "", "", false
}

// parseRawQuery adds the parameters of a raw (wire) query string to sc and
// pairs, each decoded ('+' is a space) and SigV4-encoded.
func parseRawQuery(sc []byte, pairs []qpair, raw string, skip int) ([]byte, []qpair, error) {
	for k, v, rest, more := nextParam(raw); more; k, v, rest, more = nextParam(rest) {
		var ok bool
		p := qpair{ks: len(sc)}
		sc, ok = appendReencoded(sc, k, false, true)
		if !ok {
			return sc, pairs, fmt.Errorf("%w: query parameter %q holds a %% that is not a valid escape", ErrInvalidRequest, k)
		}
		p.ke = len(sc)
		if skip != skipNone && skipParam(sc[p.ks:p.ke], skip) {
			sc = sc[:p.ks]
			continue
		}
		p.vs = p.ke
		sc, ok = appendReencoded(sc, v, false, true)
		if !ok {
			return sc, pairs, fmt.Errorf("%w: value of query parameter %q holds a %% that is not a valid escape", ErrInvalidRequest, k)
		}
		p.ve = len(sc)
		pairs = append(pairs, p)
	}
	return sc, pairs, nil
}

func skipParam(key []byte, skip int) bool {
	switch string(key) {
	case "X-Amz-Signature":
		return true
	case "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
		"X-Amz-SignedHeaders", "X-Amz-Security-Token":
		return skip == skipPresign
	}
	return false
}

func cmpPair(sc []byte, a, b qpair) int {
	if c := bytes.Compare(sc[a.ks:a.ke], sc[b.ks:b.ke]); c != 0 {
		return c
	}
	return bytes.Compare(sc[a.vs:a.ve], sc[b.vs:b.ve])
}

// sortPairs sorts by key, then by value.
func sortPairs(sc []byte, ps []qpair) {
	if len(ps) <= 12 {
		for i := 1; i < len(ps); i++ {
			for j := i; j > 0 && cmpPair(sc, ps[j-1], ps[j]) > 0; j-- {
				ps[j-1], ps[j] = ps[j], ps[j-1]
			}
		}
		return
	}
	cl := bytes.Clone(sc) // keeps sc itself off the heap in the common case
	slices.SortFunc(ps, func(a, b qpair) int { return cmpPair(cl, a, b) })
}

// appendPairs appends the sorted pairs joined by '&'.
func appendPairs(b, sc []byte, ps []qpair) []byte {
	for i, p := range ps {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, sc[p.ks:p.ke]...)
		b = append(b, '=')
		b = append(b, sc[p.vs:p.ve]...)
	}
	return b
}

// appendRawQuery appends the canonical form of a raw query string.
func appendRawQuery(b []byte, raw string) ([]byte, error) {
	if out, ok := appendCanonicalQuery(b, raw); ok {
		return out, nil
	}
	var pairArr [16]qpair
	var scArr [512]byte
	sc, pairs, err := parseRawQuery(scArr[:0], pairArr[:0], raw, skipNone)
	if err != nil {
		return b, err
	}
	sortPairs(sc, pairs)
	return appendPairs(b, sc, pairs), nil
}

// appendCanonicalQuery appends raw when it is its own canonical form, apart
// from empty parameters and '=' after a bare key: each key and value holds
// only unreserved bytes, and the parameters are sorted by key, then value.
// This is the usual case ("x-id=GetObject", "list-type=2&prefix=a"). ok is
// false, and what was appended is to be cut, otherwise.
func appendCanonicalQuery(b []byte, raw string) (_ []byte, ok bool) {
	var pk, pv string
	n := len(b)
	for k, v, rest, more := nextParam(raw); more; k, v, rest, more = nextParam(rest) {
		if !plain(k, false) || !plain(v, false) {
			return b, false
		}
		if len(b) > n {
			if k < pk || k == pk && v < pv {
				return b, false
			}
			b = append(b, '&')
		}
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, v...)
		pk, pv = k, v
	}
	return b, true
}

// queryBuilder collects query parameters for presigning and verifying, and
// writes them canonically. Its methods return the builder rather than store
// through a pointer, so that the arrays behind it may stay on the stack.
type queryBuilder struct {
	sc    []byte
	pairs []qpair
}

// addRaw adds the parameters of a raw (wire) query string but those skip
// names.
func (q queryBuilder) addRaw(raw string, skip int) (queryBuilder, error) {
	var err error
	q.sc, q.pairs, err = parseRawQuery(q.sc, q.pairs, raw, skip)
	return q, err
}

// add adds one decoded parameter.
func (q queryBuilder) add(k string, v string) queryBuilder { return addParam(q, k, v) }

// addParam adds one decoded parameter.
func addParam[V ~string | ~[]byte](q queryBuilder, k string, v V) queryBuilder {
	p := qpair{ks: len(q.sc)}
	q.sc = appendEncoded(q.sc, k, false)
	p.ke = len(q.sc)
	p.vs = p.ke
	q.sc = appendEncoded(q.sc, v, false)
	p.ve = len(q.sc)
	q.pairs = append(q.pairs, p)
	return q
}

// appendTo sorts the parameters and appends them joined by '&'.
func (q *queryBuilder) appendTo(b []byte) []byte {
	sortPairs(q.sc, q.pairs)
	return appendPairs(b, q.sc, q.pairs)
}

// amzDateOf returns at in UTC as YYYYMMDD'T'HHMMSS'Z' (see checkTime for the
// years allowed). The last second formatted is kept, since a busy client
// signs many requests within each: formatting anew costs more than the
// look, and keeping a new second costs one small allocation.
func amzDateOf(at time.Time) [16]byte {
	u := at.Unix()
	if d := lastDate.Load(); d != nil && d.unix == u {
		return d.text
	}
	d := &dateStamp{unix: u, text: amzDate(splitTime(at))}
	lastDate.Store(d)
	return d.text
}

type dateStamp struct {
	unix int64
	text [16]byte
}

var lastDate atomic.Pointer[dateStamp]

// appendAmzDate appends t in UTC as YYYYMMDD'T'HHMMSS'Z'.
func appendAmzDate(b []byte, t timeParts) []byte {
	d := amzDate(t)
	return append(b, d[:]...)
}

// amzDate formats t as YYYYMMDD'T'HHMMSS'Z'; the year must be within 0 to
// 9999 (see checkTime).
func amzDate(t timeParts) (d [16]byte) {
	y := t.year
	d[0], d[1], d[2], d[3] = byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10)
	d[4], d[5] = byte('0'+t.month/10), byte('0'+t.month%10)
	d[6], d[7] = byte('0'+t.day/10), byte('0'+t.day%10)
	d[8] = 'T'
	d[9], d[10] = byte('0'+t.hour/10), byte('0'+t.hour%10)
	d[11], d[12] = byte('0'+t.min/10), byte('0'+t.min%10)
	d[13], d[14] = byte('0'+t.sec/10), byte('0'+t.sec%10)
	d[15] = 'Z'
	return d
}

type timeParts struct{ year, month, day, hour, min, sec int }
