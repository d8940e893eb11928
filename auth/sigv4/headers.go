package sigv4

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"slices"
	"strings"
)

// Kinds of header value in a hdr.
const (
	valsHdr  = iota // vals, from the request: each trimmed, joined by ','
	rawHdr          // raw, computed: trimmed
	exactHdr        // raw, computed, needing no trimming (host, payload hash)
	dateHdr         // the X-Amz-Date value, passed apart to appendTo, so that no stack buffer is referenced from hs
)

// candidate is a request header that may be signed: one not left out by its
// key (see gather).
type candidate struct {
	key  string
	vals []string
}

// Which computed header a hdr holds (hdr.src < 0).
const (
	srcHost  = -1
	srcDate  = -2
	srcSha   = -3
	srcToken = -4
)

// gather reads h once. It sets aside the headers left out in the spelling
// http.Header.Set gives them, the values under keySha and keyToken when the
// signing replaces them, and keys with no value (never sent), and returns
// the others.
func gather(cands []candidate, h http.Header, o collectOptions) (_ []candidate, r collectResult) {
	for k, vs := range h {
		switch k {
		case "User-Agent", keyDate, keyAuth, "Expect", "Connection", "Transfer-Encoding", "X-Amzn-Trace-Id",
			"Host", "Keep-Alive", "Proxy-Connection", "Upgrade", "Te", "Proxy-Authorization":
			continue
		case keySha:
			if o.sha {
				r.shaVals = vs
				continue
			}
		case keyToken:
			if o.token {
				r.tokenVals = vs
				continue
			}
		}
		if len(vs) == 0 {
			continue // not sent: net/http writes a line per value
		}
		if k == keyLength {
			r.lengthVals, r.hasLength = vs, true
		}
		cands = append(cands, candidate{k, vs})
	}
	return cands, r
}

// hdr is one header of the canonical request; its lower-case name is
// names[ls:le] of the headerList that holds it.
type hdr struct {
	vals   []string
	raw    string
	ls, le int32
	kind   uint8
	src    int16 // the index of its candidate (see gather), or srcHost ... srcToken
}

// headerList is the set of headers a canonical request signs: hs, their
// lower-case names (in one buffer), and ord, the indexes of hs in name order
// (set by sortHeaders). Names that differ only in case in the request are
// one header, its values joined in the order of their keys (see cmpKeys).
//
// The signer keeps all three in stack arrays: collect lowers and checks each
// candidate's name into names (gather read req.Header), sortHeaders orders
// indexes (never moving a hdr), and appendTo writes the canonical headers and
// the signed header list in one go.
type headerList struct {
	hs    []hdr
	names []byte
	ord   []int32
	cands []candidate // what hdr.src indexes; nil in the Verifier, whose names are all distinct
}

// The functions that build a headerList take and return its slices rather
// than store them through a pointer, so that the arrays behind them stay on
// the caller's stack.

// addComputed adds a header the signer computes, under a lower-case name.
func addComputed(hs []hdr, names []byte, name, raw string, kind uint8, src int16) ([]hdr, []byte) {
	n := len(names)
	names = append(names, name...)
	return append(hs, hdr{raw: raw, ls: int32(n), le: int32(len(names)), kind: kind, src: src}), names
}

// addLower adds a header of the request whose lower-case name is names[n:]
// (see appendLowerToken).
func addLower(hs []hdr, names []byte, n int, vals []string, src int) []hdr {
	return append(hs, hdr{vals: vals, ls: int32(n), le: int32(len(names)), src: int16(src)})
}

// appendLowerToken appends name lower-cased. ok is false when name is empty
// or holds a byte outside the HTTP token set (RFC 9110).
func appendLowerToken(b []byte, name string) (_ []byte, ok bool) {
	const high = 0x8080808080808080
	n := len(b)
	b = append(b, name...)
	if words := (len(name) + 7) &^ 7; cap(b)-n >= words {
		// Eight bytes at a time, the last word padded with zeros (within
		// b's capacity), while they are letters, digits and '-', as header
		// names nearly always are.
		d := b[n : n+words]
		i := 0
		for ; i < len(d); i += 8 {
			w := binary.LittleEndian.Uint64(d[i:])
			pad := uint64(0)
			if rest := len(name) - i; rest < 8 {
				w &= 1<<(8*rest) - 1
				pad = high << (8 * rest)
			}
			w, valid := lowerWord(w)
			if valid|pad != high {
				break
			}
			binary.LittleEndian.PutUint64(d[i:], w)
		}
		if i == len(d) {
			return b, len(name) > 0
		}
	}
	d := b[n:]
	m := byte(0xff)
	for i := range d {
		c := lowerToken[d[i]]
		d[i] = c
		m = min(m, c)
	}
	return b, m != 0 && len(d) > 0
}

// lowerWord lower-cases the ASCII letters among 8 bytes. valid has the high
// bit of each byte that is a letter, a digit or '-'. Each step works on all 8
// bytes at once without a carry from one byte into the next: every byte is
// below 0x80 once the first test passes, and the constants added keep it
// below 0x100.
func lowerWord(w uint64) (_ uint64, valid uint64) {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	if w&high != 0 {
		return w, 0
	}
	w |= ((w + ones*(0x80-'A')) &^ (w + ones*(0x80-'Z'-1)) & high) >> 2 // 0x80 >> 2 is the case bit
	letter := (w + ones*(0x80-'a')) &^ (w + ones*(0x80-'z'-1))
	digit := (w + ones*(0x80-'0')) &^ (w + ones*(0x80-'9'-1))
	t := w ^ ones*'-'
	dash := ^((t&^high + ^uint64(high)&^high) | t) // high bit set where t is zero
	return w, (letter | digit | dash) & high
}

// skipHeader reports whether a request header with the lower-case name l is
// never signed: the hop-by-hop and proxy-rewritten headers, and those the
// signer sets itself (Host comes from req.Host, X-Amz-Date and
// Authorization are replaced).
func skipHeader(l []byte) bool {
	switch string(l) {
	case "te", "host", "expect", "upgrade", "user-agent", "connection", "keep-alive",
		"x-amz-date", "authorization", "x-amzn-trace-id", "proxy-connection",
		"transfer-encoding", "proxy-authorization":
		return true
	}
	return false
}

// sortHeaders returns the indexes of l.hs in the order of their names,
// stable for equal names, in ord when it is long enough.
func sortHeaders(ord []int32, l headerList) []int32 {
	n := len(l.hs)
	if cap(ord) < n {
		ord = make([]int32, n)
	}
	ord = ord[:n]
	if n > 24 {
		for i := range ord {
			ord[i] = int32(i)
		}
		c := l
		c.names = bytes.Clone(l.names) // so that l.names does not escape through the closure
		slices.SortStableFunc(ord, func(a, b int32) int {
			ha, hb := &c.hs[a], &c.hs[b]
			if d := bytes.Compare(c.names[ha.ls:ha.le], c.names[hb.ls:hb.le]); d != 0 {
				return d
			}
			return c.cmpKeys(ha, hb)
		})
		return ord
	}
	// Insertion sort of keys that hold the first 16 bytes of the name (most
	// names differ there), comparing the rest only on a tie.
	var keys [24]sortKey
	hs, names := l.hs, l.names
	for i := range hs {
		k := &keys[i]
		k.hi, k.lo = namePrefix(names, hs[i].ls, hs[i].le)
		k.i = int32(i)
	}
	for i := 1; i < n; i++ {
		k := keys[i]
		j := i
		for ; j > 0; j-- {
			p := &keys[j-1]
			if p.hi < k.hi || p.hi == k.hi && (p.lo < k.lo || p.lo == k.lo && !l.tieLess(k.i, p.i)) {
				break
			}
			keys[j] = *p
		}
		keys[j] = k
	}
	for i := range ord {
		ord[i] = keys[i].i
	}
	return ord
}

type sortKey struct {
	hi, lo uint64
	i      int32
}

// tieLess reports whether the name of hs[a] sorts before that of hs[b] when
// their first 16 bytes are the same.
func (l *headerList) tieLess(a, b int32) bool {
	ha, hb := &l.hs[a], &l.hs[b]
	la, lb := ha.le-ha.ls, hb.le-hb.ls
	if la != lb && (la <= 16 || lb <= 16) {
		return la < lb // one is a prefix of the other
	}
	if d := bytes.Compare(l.names[ha.ls+min(16, la):ha.le], l.names[hb.ls+min(16, lb):hb.le]); d != 0 {
		return d < 0
	}
	return l.cmpKeys(ha, hb) < 0
}

// cmpKeys orders two headers of one name by their keys in the request: one
// name in two spellings ("X-Meta-A" and "x-meta-a") is two header lines,
// which net/http writes in the order of the keys, and the server joins
// their values in that order; so does the signer. (HTTP/2 sends them in
// the map's order, which no signer can know.)
func (l *headerList) cmpKeys(ha, hb *hdr) int {
	if ha.src < 0 || hb.src < 0 || int(ha.src) >= len(l.cands) || int(hb.src) >= len(l.cands) {
		return 0
	}
	return strings.Compare(l.cands[ha.src].key, l.cands[hb.src].key)
}

// namePrefix returns the first 16 bytes of names[ls:le] as two big-endian
// words, zero-padded. Header names hold no zero byte, so a shorter name sorts
// first.
func namePrefix(names []byte, ls, le int32) (hi, lo uint64) {
	n := int(le - ls)
	if int(ls)+16 > cap(names) {
		for i, c := range names[ls:le] {
			if i < 8 {
				hi |= uint64(c) << (56 - 8*i)
			} else if i < 16 {
				lo |= uint64(c) << (56 - 8*(i-8))
			}
		}
		return hi, lo
	}
	// Two loads within the capacity, and a mask for what is past the name.
	b := names[ls : ls+16]
	hi, lo = binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])
	switch {
	case n >= 16:
	case n > 8:
		lo &= ^uint64(0) << (8 * (16 - n))
	default:
		hi &= ^uint64(0) << (8 * (8 - n))
		lo = 0
	}
	return hi, lo
}

// appendTo appends the canonical headers of the sorted list (each
// "name:value\n"), an empty line, and the signed header list (the names
// joined by ';'), which starts at b[signed:]. date is the value of a
// dateHdr.
func (l *headerList) appendTo(b, date []byte) (_ []byte, signed int) {
	hs, names, ord := l.hs, l.names, l.ord // locals: appends to b cannot change them
	var prev []byte
	wrote := false // a value was written for the current name
	for i, o := range ord {
		h := &hs[o]
		name := names[h.ls:h.le]
		if i == 0 || string(name) != string(prev) {
			if i > 0 {
				b = append(b, '\n')
			}
			b = appendName(b, names, h.ls, h.le)
			b = append(b, ':')
			prev, wrote = name, false
		}
		if h.kind == valsHdr {
			for _, v := range h.vals {
				if wrote {
					b = append(b, ',')
				}
				b = appendTrimmed(b, v)
				wrote = true
			}
			continue
		}
		if wrote {
			b = append(b, ',')
		}
		wrote = true
		switch h.kind {
		case dateHdr:
			b = append(b, date...)
		case exactHdr:
			b = append(b, h.raw...)
		default:
			b = appendTrimmed(b, h.raw)
		}
	}
	b = append(b, '\n', '\n')
	return l.appendSigned(b), len(b)
}

// appendName appends names[ls:le]. A name of up to 16 bytes is copied as
// two words when both buffers have the room in their capacity (what is
// written past the name is past len(b), so it is nothing): most are, and a
// call to memmove for each costs more than the copy.
func appendName(b, names []byte, ls, le int32) []byte {
	n := len(b)
	if le-ls <= 16 && int(ls)+16 <= cap(names) && cap(b)-n >= 16 {
		src, dst := names[ls:ls+16], b[n:n+16]
		binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(src))
		binary.LittleEndian.PutUint64(dst[8:], binary.LittleEndian.Uint64(src[8:]))
		return b[:n+int(le-ls)]
	}
	return append(b, names[ls:le]...)
}

// appendSigned appends the signed header list of the sorted list: the names
// joined by ';'.
func (l *headerList) appendSigned(b []byte) []byte {
	hs, names, ord := l.hs, l.names, l.ord
	var prev []byte
	for i, o := range ord {
		h := &hs[o]
		name := names[h.ls:h.le]
		if i > 0 {
			if string(name) == string(prev) {
				continue
			}
			b = append(b, ';')
		}
		b = appendName(b, names, h.ls, h.le)
		prev = name
	}
	return b
}

// appendTrimmed appends v trimmed, with inner runs of white space collapsed
// to one space.
func appendTrimmed(b []byte, v string) []byte {
	if isTrimmed(v) {
		return append(b, v...)
	}
	return appendCollapsed(b, v)
}

// appendCollapsed is appendTrimmed for a value that needs it.
func appendCollapsed(b []byte, v string) []byte {
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
	// The usual case: no byte up to ' ', tested 8 bytes at a time.
	const ones, high = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(v); i += 8 {
		w := load64(v, i)
		if (w-ones*0x21)&^w&high != 0 { // some byte below 0x21
			break
		}
	}
	for i < len(v) && v[i] > ' ' {
		i++
	}
	if i == len(v) {
		return true
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

// load64 returns the 8 bytes of s at i, little-endian (one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
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

// Header keys the signer sets, in the form http.Header.Set gives them.
const (
	keyDate   = "X-Amz-Date"
	keyAuth   = "Authorization"
	keySha    = "X-Amz-Content-Sha256"
	keyToken  = "X-Amz-Security-Token"
	keyLength = "Content-Length"
)

// collectOptions says which request headers a signing replaces.
type collectOptions struct {
	sha, token bool // X-Amz-Content-Sha256, X-Amz-Security-Token
}

// collectResult is what gather and collect found besides the headers.
type collectResult struct {
	// stray: a header the signing replaces is there in another spelling
	// than keyDate, keyAuth, keySha or keyToken (so it must be deleted).
	stray bool
	// shaVals and tokenVals are the values under keySha and keyToken.
	shaVals, tokenVals []string
	// bad is a header name that is not an HTTP token, if any.
	bad string
	// lengthVals are the values under keyLength, if hasLength.
	lengthVals []string
	hasLength  bool
}

// collect adds the candidates that are signed (see the package doc): all but
// those whose lower-case name skipHeader names and those the signing
// replaces.
func collect(hs []hdr, names []byte, cands []candidate, o collectOptions, r *collectResult) ([]hdr, []byte) {
	for i, c := range cands {
		k := c.key
		n := len(names)
		var ok bool
		names, ok = appendLowerToken(names, k)
		if !ok {
			if r.bad == "" {
				r.bad = k
			}
			names = names[:n]
			continue
		}
		ln := names[n:]
		switch {
		case skipHeader(ln):
			r.stray = r.stray || string(ln) == "x-amz-date" || string(ln) == "authorization"
		case o.sha && string(ln) == "x-amz-content-sha256", o.token && string(ln) == "x-amz-security-token":
			r.stray = true // not keySha or keyToken: gather set those aside
		default:
			hs = addLower(hs, names, n, c.vals, i)
			continue
		}
		names = names[:n]
	}
	return hs, names
}
