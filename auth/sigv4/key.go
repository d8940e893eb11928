package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"hash"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// signingKey is a derived SigV4 key, kept as the SHA-256 states after the
// HMAC inner and outer pads, so that signing a string hashes only the string
// and the inner sum, with no allocation.
type signingKey struct {
	secret, date, region, service string
	key                           []byte // the derived key
	inner, outer                  []byte // marshaled sha256 states
}

// hmacState is a reusable SHA-256 hash with room for the string to sign
// (kept off the stack: it is passed to the hash through an interface), and
// the byte buffers of one signing: the canonical request and the values
// set (buffers on the heap need no zeroing, as stack arrays do).
type hmacState struct {
	h       hash.Hash
	buf     []byte
	cr, out []byte
	sum     [sha256.Size]byte
}

var hmacPool = sync.Pool{New: func() any {
	return &hmacState{h: sha256.New(), buf: make([]byte, 0, 256), cr: make([]byte, 0, 1024), out: make([]byte, 0, 512)}
}}

// maxPooledBuf bounds the buffers kept in hmacPool, so that one request
// with huge headers does not pin its buffers.
const maxPooledBuf = 16 << 10

// putState returns st to hmacPool, keeping the buffers that grew in its use
// when they are not too large.
func putState(st *hmacState, cr, out []byte) {
	if cap(cr) <= maxPooledBuf {
		st.cr = cr[:0]
	}
	if cap(out) <= maxPooledBuf {
		st.out = out[:0]
	}
	hmacPool.Put(st)
}

// keyCache holds recently derived keys, indexed by a hash of what they were
// derived from. A slot holds one key; a colliding derivation replaces it.
// Keys are compared in full before use, so a collision only costs a
// re-derivation.
var keyCache [64]atomic.Pointer[signingKey]

var keySeed = maphash.MakeSeed()

func keySlot(secret string, date []byte, region, service string) *atomic.Pointer[signingKey] {
	h := maphash.String(keySeed, secret)
	h = h*31 ^ maphash.Bytes(keySeed, date)
	h = h*31 ^ maphash.String(keySeed, region)
	h = h*31 ^ maphash.String(keySeed, service)
	return &keyCache[h%uint64(len(keyCache))]
}

// deriveKey returns the signing key for the secret, day (YYYYMMDD), region
// and service, from the cache when it is there.
func deriveKey(secret string, date []byte, region, service string) *signingKey {
	if k := lastKey.Load(); k != nil && k.is(secret, date, region, service) {
		return k // the usual case: one key signs request after request
	}
	slot := keySlot(secret, date, region, service)
	if k := slot.Load(); k != nil && k.is(secret, date, region, service) {
		lastKey.Store(k)
		return k
	}
	k := &signingKey{secret: secret, date: string(date), region: region, service: service}
	m := hmac.New(sha256.New, []byte("AWS4"+secret))
	m.Write([]byte(k.date))
	sum := m.Sum(nil)
	for _, part := range []string{region, service, "aws4_request"} {
		m = hmac.New(sha256.New, sum)
		m.Write([]byte(part))
		sum = m.Sum(sum[:0])
	}
	k.key = sum
	var ipad, opad [64]byte
	for i := range ipad {
		ipad[i], opad[i] = 0x36, 0x5c
	}
	for i, c := range sum {
		ipad[i] ^= c
		opad[i] ^= c
	}
	h := sha256.New()
	h.Write(ipad[:])
	k.inner, _ = h.(encoding.BinaryMarshaler).MarshalBinary()
	h.Reset()
	h.Write(opad[:])
	k.outer, _ = h.(encoding.BinaryMarshaler).MarshalBinary()
	slot.Store(k)
	lastKey.Store(k)
	return k
}

// lastKey is the key deriveKey returned last, looked at before keyCache.
var lastKey atomic.Pointer[signingKey]

func (k *signingKey) is(secret string, date []byte, region, service string) bool {
	return k.date == string(date) && k.region == region && k.service == service && k.secret == secret
}

// sum returns HMAC-SHA256(key, msg), hashing with st.h.
func (k *signingKey) sum(st *hmacState, msg []byte) (out [32]byte) {
	u, ok := st.h.(encoding.BinaryUnmarshaler)
	if !ok || u.UnmarshalBinary(k.inner) != nil {
		return k.slowSum(msg)
	}
	st.h.Write(msg)
	inner := st.h.Sum(st.sum[:0])
	if u.UnmarshalBinary(k.outer) != nil {
		return k.slowSum(msg)
	}
	st.h.Write(inner)
	copy(out[:], st.h.Sum(st.sum[:0]))
	return out
}

// slowSum is sum by crypto/hmac, should a saved state ever not restore.
func (k *signingKey) slowSum(msg []byte) (out [32]byte) {
	m := hmac.New(sha256.New, k.key)
	m.Write(bytes.Clone(msg)) // a copy, so that msg does not escape to the heap
	copy(out[:], m.Sum(nil))
	return out
}

func appendHex(b []byte, sum []byte) []byte {
	n := len(b)
	b = append(b, make([]byte, 2*len(sum))...)
	putHex(b[n:], sum)
	return b
}

// hexPairs holds the two lower-case hex digits of each byte value.
var hexPairs = func() (t [512]byte) {
	for i := range 256 {
		t[2*i], t[2*i+1] = hexLower[i>>4], hexLower[i&15]
	}
	return t
}()

// putHex writes the lower-case hex of src to dst[:2*len(src)].
func putHex(dst, src []byte) {
	dst = dst[:2*len(src)]
	for i, c := range src {
		dst[2*i], dst[2*i+1] = hexPairs[2*int(c)], hexPairs[2*int(c)+1]
	}
}
