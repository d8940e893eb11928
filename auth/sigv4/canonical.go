package sigv4

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
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
func appendEncoded(b []byte, s string, keepSlash bool) []byte {
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
func plain(s string, keepSlash bool) bool {
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
	i := strings.LastIndexByte(h, ':')
	if i < 0 || strings.IndexByte(h[i:], ']') >= 0 {
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

// parseRawQuery adds the parameters of a raw (wire) query string to sc and
// pairs, each decoded ('+' is a space) and SigV4-encoded.
func parseRawQuery(sc []byte, pairs []qpair, raw string, skip int) ([]byte, []qpair, error) {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
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
	var pairArr [16]qpair
	var scArr [512]byte
	sc, pairs, err := parseRawQuery(scArr[:0], pairArr[:0], raw, skipNone)
	if err != nil {
		return b, err
	}
	sortPairs(sc, pairs)
	return appendPairs(b, sc, pairs), nil
}

// queryBuilder collects query parameters (on the heap) for presigning and
// verifying, and writes them canonically.
type queryBuilder struct {
	sc    []byte
	pairs []qpair
}

// addRaw adds the parameters of a raw (wire) query string but those skip
// names.
func (q *queryBuilder) addRaw(raw string, skip int) error {
	var err error
	q.sc, q.pairs, err = parseRawQuery(q.sc, q.pairs, raw, skip)
	return err
}

// add adds one decoded parameter.
func (q *queryBuilder) add(k, v string) {
	p := qpair{ks: len(q.sc)}
	q.sc = appendEncoded(q.sc, k, false)
	p.ke = len(q.sc)
	p.vs = p.ke
	q.sc = appendEncoded(q.sc, v, false)
	p.ve = len(q.sc)
	q.pairs = append(q.pairs, p)
}

// appendTo sorts the parameters and appends them joined by '&'.
func (q *queryBuilder) appendTo(b []byte) []byte {
	sortPairs(q.sc, q.pairs)
	return appendPairs(b, q.sc, q.pairs)
}

// hdr is one header of the canonical request: name as found in the header
// map (any case) with its values, or a lower-case name with a computed value.
// names[ls:le] holds the lower-cased name (see lowerNames).
type hdr struct {
	name string
	vals []string
	raw  string
	// date marks the x-amz-date header, whose value is passed apart so
	// that no stack buffer is referenced from hs (which may grow to the heap).
	date bool
	// exact marks a raw value that needs no trimming (host, payload hash).
	exact  bool
	ls, le int
}

// lowerNames appends the lower-cased name of each header to names and
// records where it is. bad is the index of the first header whose name is
// not an HTTP token (empty, or with a byte outside the token set), else -1.
func lowerNames(names []byte, hs []hdr) (_ []byte, bad int) {
	bad = -1
	for i := range hs {
		n := len(names)
		hs[i].ls = n
		names = append(names, hs[i].name...)
		for j := n; j < len(names); j++ {
			c := lowerToken[names[j]]
			if c == 0 && bad < 0 {
				bad = i
			}
			names[j] = c
		}
		if n == len(names) && bad < 0 {
			bad = i
		}
		hs[i].le = len(names)
	}
	return names, bad
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// eqLower reports whether s equals the lower-case l, ignoring case.
func eqLower(s, l string) bool {
	if len(s) != len(l) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower(s[i]) != l[i] {
			return false
		}
	}
	return true
}

// neverSigned reports whether the header is one SigV4 leaves out: hop-by-hop
// and proxy-rewritten headers, and those the signer itself sets.
func neverSigned(name string) bool {
	switch len(name) {
	case 2:
		return eqLower(name, "te")
	case 4:
		return eqLower(name, "host")
	case 6:
		return eqLower(name, "expect")
	case 7:
		return eqLower(name, "upgrade")
	case 10:
		return eqLower(name, "user-agent") || eqLower(name, "connection") || eqLower(name, "keep-alive") || eqLower(name, "x-amz-date")
	case 13:
		return eqLower(name, "authorization")
	case 15:
		return eqLower(name, "x-amzn-trace-id")
	case 16:
		return eqLower(name, "proxy-connection")
	case 17:
		return eqLower(name, "transfer-encoding")
	case 19:
		return eqLower(name, "proxy-authorization")
	}
	return false
}

// sortHdrs sorts hs by lower-cased name, keeping the order of names that
// differ only in case.
func sortHdrs(hs []hdr, names []byte) {
	if len(hs) > 24 {
		cl := bytes.Clone(names)
		slices.SortStableFunc(hs, func(a, b hdr) int { return bytes.Compare(cl[a.ls:a.le], cl[b.ls:b.le]) })
		return
	}
	// Insertion sort of indices by an 8-byte prefix of the name (most
	// names differ there), then one permutation of hs.
	var keys [24]uint64
	var ord [24]uint8
	n := len(hs)
	for i := range hs {
		keys[i] = namePrefix(names[hs[i].ls:hs[i].le])
		ord[i] = uint8(i)
	}
	less := func(a, b uint8) bool {
		if keys[a] != keys[b] {
			return keys[a] < keys[b]
		}
		return bytes.Compare(names[hs[a].ls:hs[a].le], names[hs[b].ls:hs[b].le]) < 0
	}
	sorted := true
	for i := 1; i < n; i++ {
		for j := i; j > 0 && less(ord[j], ord[j-1]); j-- {
			ord[j-1], ord[j] = ord[j], ord[j-1]
			sorted = false
		}
	}
	if sorted {
		return
	}
	// Apply the permutation in place, cycle by cycle: hs[i] becomes the
	// old hs[ord[i]].
	var done [24]bool
	for i := 0; i < n; i++ {
		if done[i] || int(ord[i]) == i {
			continue
		}
		first := hs[i]
		j := i
		for {
			done[j] = true
			next := int(ord[j])
			if next == i {
				hs[j] = first
				break
			}
			hs[j] = hs[next]
			j = next
		}
	}
}

// namePrefix returns the first 8 bytes of name, big-endian, zero-padded.
func namePrefix(name []byte) uint64 {
	if len(name) >= 8 {
		return binary.BigEndian.Uint64(name)
	}
	var k uint64
	for i := 0; i < 8; i++ {
		k <<= 8
		if i < len(name) {
			k |= uint64(name[i])
		}
	}
	return k
}

// appendTrimmed appends v trimmed, with inner runs of white space collapsed
// to one space.
func appendTrimmed(b []byte, v string) []byte {
	if isTrimmed(v) {
		return append(b, v...)
	}
	space := false
	start := true
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			space = true
			continue
		}
		if space && !start {
			b = append(b, ' ')
		}
		space, start = false, false
		b = append(b, c)
	}
	return b
}

// isTrimmed reports whether v has no white space but single inner spaces.
func isTrimmed(v string) bool {
	i := 0
	for i < len(v) && v[i] > ' ' {
		i++
	}
	if i == len(v) {
		return true // the usual case: no white space at all
	}
	if v[0] == ' ' || v[len(v)-1] == ' ' {
		return false
	}
	for ; i < len(v); i++ {
		switch v[i] {
		case '\t', '\r', '\n':
			return false
		case ' ':
			if v[i+1] == ' ' {
				return false
			}
		}
	}
	return true
}

// appendCanonicalHeaders appends "name:value\n" for each header of the sorted
// hs, merging names that differ only in case.
func appendCanonicalHeaders(b []byte, hs []hdr, names, date []byte) []byte {
	for i := 0; i < len(hs); i++ {
		name := names[hs[i].ls:hs[i].le]
		if i > 0 && bytes.Equal(names[hs[i-1].ls:hs[i-1].le], name) {
			continue
		}
		b = append(b, name...)
		b = append(b, ':')
		first := true
		for j := i; j < len(hs) && (j == i || bytes.Equal(names[hs[j].ls:hs[j].le], name)); j++ {
			switch {
			case hs[j].vals != nil:
				for _, v := range hs[j].vals {
					if !first {
						b = append(b, ',')
					}
					first = false
					b = appendTrimmed(b, v)
				}
			case hs[j].date:
				b = append(b, date...)
			case hs[j].exact:
				b = append(b, hs[j].raw...)
			default:
				b = appendTrimmed(b, hs[j].raw)
			}
		}
		b = append(b, '\n')
	}
	return b
}

// appendSignedHeaders appends the lower-case names of the sorted hs joined by
// ';', each once.
func appendSignedHeaders(b []byte, hs []hdr, names []byte) []byte {
	for i, h := range hs {
		name := names[h.ls:h.le]
		if i > 0 && bytes.Equal(names[hs[i-1].ls:hs[i-1].le], name) {
			continue
		}
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	return b
}

// appendAmzDate appends t in UTC as YYYYMMDD'T'HHMMSS'Z'.
func appendAmzDate(b []byte, t timeParts) []byte {
	b = append4(b, t.year)
	b = append2(b, t.month)
	b = append2(b, t.day)
	b = append(b, 'T')
	b = append2(b, t.hour)
	b = append2(b, t.min)
	b = append2(b, t.sec)
	return append(b, 'Z')
}

type timeParts struct{ year, month, day, hour, min, sec int }

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10%10), byte('0'+n%10)) }
func append4(b []byte, n int) []byte {
	if n < 0 || n > 9999 {
		return strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}
