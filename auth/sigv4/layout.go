package sigv4

import (
	"hash/maphash"
	"net/http"
	"sync/atomic"
)

// A client sends requests of a few shapes again and again: the same header
// names, in another order each time (a map's), with other values. What a
// canonical request makes of the names alone (lowering and checking each,
// sorting, the signed header list) is the same for each shape, so Sign keeps
// it, per shape, as a layout: the header names in canonical order with the
// text that precedes each value. A request whose header keys are exactly
// those of a layout is written from it; any other goes the whole way
// (headerList), and its layout is kept once the same shape goes the whole
// way twice in a row in one of its slots, so that one-off shapes cost
// nothing.
//
// A layout is found by a fingerprint of the keys, in one of two tables of
// 128 slots (one slot each), and then checked key by key, so a fingerprint
// that collides costs only the whole way. Layouts are immutable once
// published; slots are atomic pointers, so any number of goroutines share
// them.

// candidate is a request header that may be signed: one not left out by its
// key (see gather).
type candidate struct {
	key  string
	vals []string
}

// Which computed header a hdr or layoutItem holds (hdr.src < 0).
const (
	srcHost  = -1
	srcDate  = -2
	srcSha   = -3
	srcToken = -4
)

// maxLayout bounds the headers of a layout (computed ones included).
const maxLayout = 16

type layout struct {
	fp         uint64
	n          int // request headers
	sha, token bool
	items      []layoutItem
	signed     string
}

type layoutItem struct {
	key    string // the request's header key; "" for a computed header
	prefix string // "name:", after a '\n' but for the first item
	src    int8   // 0 for a request header, else srcHost ... srcToken
}

var (
	// layoutsOff makes Sign go the whole way always (for tests that
	// compare the two).
	layoutsOff bool

	// Two tables, each fingerprint with a slot in both (from its low and
	// its high bits), so that two shapes whose slots collide in one table
	// still both get a layout, in the other.
	layouts    [2][128]atomic.Pointer[layout]
	layoutSeen [2][128]atomic.Uint64                       // the fingerprint last missed in each slot
	layoutSeed = maphash.Comparable(maphash.MakeSeed(), 0) // random per process
)

// gather reads h once. It sets aside the headers left out in the spelling
// http.Header.Set gives them, the values under keySha and keyToken when the
// signing replaces them, and keys with no value (never sent), and returns
// the others, with an order-independent fingerprint of their keys and of o.
func gather(cands []candidate, h http.Header, o collectOptions) (_ []candidate, fp uint64, r collectResult) {
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
		fp += keyPrint(k)
	}
	if o.sha {
		fp ^= 1
	}
	if o.token {
		fp ^= 2
	}
	return cands, fp, r
}

// keyPrint returns a hash of the length and the first and last 8 bytes of
// k (a key is checked in full before a layout is used, so this needs only
// tell the keys of one client apart, cheaply).
func keyPrint(k string) uint64 {
	var a, z uint64
	if len(k) >= 8 {
		a, z = load64(k, 0), load64(k, len(k)-8)
	} else {
		for i := 0; i < len(k); i++ {
			a = a<<8 | uint64(k[i])
		}
	}
	h := (a ^ layoutSeed) * 0x9e3779b97f4a7c15
	h ^= (z + uint64(len(k))) * 0xc2b2ae3d27d4eb4f
	return h ^ h>>29
}

// findLayout returns the layout of fp when there is one; it may still not
// match (see match).
func findLayout(fp uint64, n int, o collectOptions) *layout {
	if layoutsOff {
		return nil
	}
	a, b := layoutSlots(fp)
	lay := layouts[0][a].Load()
	if lay == nil || lay.fp != fp {
		lay = layouts[1][b].Load()
	}
	if lay == nil || lay.fp != fp || lay.n != n || lay.sha != o.sha || lay.token != o.token {
		return nil
	}
	return lay
}

// layoutSlots returns the slots of fp in the two tables.
func layoutSlots(fp uint64) (a, b int) {
	return int(fp % 128), int((fp >> 32) % 128)
}

// resetLayouts forgets every layout (for tests).
func resetLayouts() {
	for t := range layouts {
		for i := range layouts[t] {
			layouts[t][i].Store(nil)
			layoutSeen[t][i].Store(0)
		}
	}
}

// match reports whether the keys of cands are exactly those of lay, and
// puts the values of each where its item is in vals.
func (lay *layout) match(cands []candidate, vals *[maxLayout][]string) bool {
	items := lay.items
	for _, c := range cands {
		j := 0
		for ; j < len(items); j++ {
			if items[j].key == c.key {
				break
			}
		}
		if j == len(items) {
			return false
		}
		vals[j] = c.vals
	}
	// len(cands) == lay.n, the keys of a map are distinct, and so are those
	// of lay: each item of a request header got its values.
	return true
}

// appendTo appends the canonical headers and the signed header list, as
// headerList.appendTo does.
func (lay *layout) appendTo(b []byte, vals *[maxLayout][]string, host string, date []byte, sha, token string) (_ []byte, signed int) {
	for i, it := range lay.items {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, it.prefix...)
		switch it.src {
		case 0:
			for j, v := range vals[i] {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendTrimmed(b, v)
			}
		case srcHost:
			b = append(b, host...)
		case srcDate:
			b = append(b, date...)
		case srcSha:
			b = append(b, sha...)
		case srcToken:
			b = appendTrimmed(b, token)
		}
	}
	b = append(b, '\n', '\n')
	signed = len(b)
	return append(b, lay.signed...), signed
}

// keepLayout publishes the layout of the sorted l when the same
// fingerprint went the whole way last in one of its slots and l can be one:
// every candidate is signed under a name of its own (no header was left out
// after lowering its name, none is there in two spellings).
func keepLayout(fp uint64, o collectOptions, l *headerList, r *collectResult, signed []byte) {
	if layoutsOff {
		return
	}
	a, b := layoutSlots(fp)
	if seenA, seenB := layoutSeen[0][a].Swap(fp), layoutSeen[1][b].Swap(fp); seenA != fp && seenB != fp {
		return
	}
	if r.dropped || r.stray || len(l.hs) > maxLayout {
		return
	}
	lay := &layout{fp: fp, n: len(l.cands), sha: o.sha, token: o.token, signed: string(signed)}
	lay.items = make([]layoutItem, len(l.ord))
	var prev []byte
	for i, j := range l.ord {
		h := &l.hs[j]
		name := l.names[h.ls:h.le]
		if i > 0 && string(name) == string(prev) {
			return // one name in two spellings: their values are joined
		}
		prev = name
		it := &lay.items[i]
		it.prefix = string(name) + ":"
		if h.src >= 0 {
			it.key = l.cands[h.src].key
		} else {
			it.src = int8(h.src)
		}
	}
	// Into a free slot, or one holding this shape; else, taking turns by a
	// bit of fp, over another shape.
	switch old := layouts[0][a].Load(); {
	case old == nil || old.fp == fp:
		layouts[0][a].Store(lay)
	case layouts[1][b].Load() == nil || fp&(1<<40) != 0:
		layouts[1][b].Store(lay)
	default:
		layouts[0][a].Store(lay)
	}
}
