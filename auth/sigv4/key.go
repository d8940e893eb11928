package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash/maphash"
	"sync/atomic"
)

// signingKey is a derived SigV4 key, kept as the HMAC inner and outer pads so
// that signing a string costs two SHA-256 sums and no allocation.
type signingKey struct {
	secret, date, region, service string
	ipad, opad                    [64]byte
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
	slot := keySlot(secret, date, region, service)
	if k := slot.Load(); k != nil && k.secret == secret && k.date == string(date) && k.region == region && k.service == service {
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
	for i := range k.ipad {
		k.ipad[i], k.opad[i] = 0x36, 0x5c
	}
	for i, c := range sum {
		k.ipad[i] ^= c
		k.opad[i] ^= c
	}
	slot.Store(k)
	return k
}

// sum returns HMAC-SHA256(key, msg). scratch is a buffer to build the padded
// input in; it is returned for reuse.
func (k *signingKey) sum(msg, scratch []byte) ([32]byte, []byte) {
	scratch = append(scratch[:0], k.ipad[:]...)
	scratch = append(scratch, msg...)
	inner := sha256.Sum256(scratch)
	scratch = append(scratch[:0], k.opad[:]...)
	scratch = append(scratch, inner[:]...)
	return sha256.Sum256(scratch), scratch
}

func appendHex(b []byte, sum []byte) []byte {
	for _, c := range sum {
		b = append(b, hexLower[c>>4], hexLower[c&15])
	}
	return b
}
