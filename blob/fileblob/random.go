package fileblob

import (
	"crypto/rand"
	"encoding/hex"
)

// randomSuffix returns 16 random hex digits for a temporary file name.
func randomSuffix() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
