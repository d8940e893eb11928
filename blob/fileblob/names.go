package fileblob

import (
	"path"
	"strings"
)

// How keys become file names. See the package documentation for the rules;
// in short: a key is split at "/" into segments; every segment but the last
// is a directory whose name is the escaped segment followed by '%', the last
// is a file named by the escaped segment; an escaped segment longer than
// maxName is cut into pieces, each but the last a directory whose name ends
// in '+'. Names starting with "%!" belong to fileblob itself (temporary
// files, metadata sidecars, the lock) and never come from a key.

const (
	// maxName is the longest piece of an escaped segment kept in one name,
	// leaving room under the usual 255-byte limit for the markers and the
	// sidecar prefix.
	maxName = 200
	// minLast is the shortest last piece of a cut segment, so that it can
	// never be "." or "..".
	minLast = 3

	dirMark   = '%'
	pieceMark = '+'
	// internal starts every name fileblob uses for itself.
	internal    = "%!"
	sidecarName = internal + "m"
	tempPrefix  = internal + "tmp-"
	lockName    = internal + "lock"
)

// mustEscape reports whether byte c at position i of a segment of length n
// is written as %XX: '%' itself, control characters, the characters some
// file systems refuse, a leading '.' (so no name is "." or ".." or hidden)
// and a trailing '+' or '%' (so a file name never ends in a marker).
func mustEscape(c byte, i, n int) bool {
	switch {
	case c < 0x20 || c == 0x7f || c == '%' || c == '/':
		return true
	case strings.IndexByte(`\:*?"<>|`, c) >= 0:
		return true
	case i == 0 && c == '.':
		return true
	case i == n-1 && c == pieceMark:
		return true
	}
	return false
}

const hexDigits = "0123456789ABCDEF"

// escape returns the escaped form of one key segment; "" becomes "%".
func escape(seg string) string {
	if seg == "" {
		return "%"
	}
	var b strings.Builder
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if mustEscape(c, i, len(seg)) {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// unescape reverses escape; ok is false for a name escape cannot make.
func unescape(s string) (string, bool) {
	if s == "%" {
		return "", true
	}
	if s == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, lo := unhex(s[i+1]), unhex(s[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	return b.String(), escape(b.String()) == s
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// pieces cuts an escaped segment into names of at most maxName bytes, the
// last at least minLast bytes long.
func pieces(esc string) []string {
	if len(esc) <= maxName {
		return []string{esc}
	}
	var out []string
	for len(esc) > maxName {
		n := maxName
		if len(esc)-n < minLast {
			n = len(esc) - minLast
		}
		out = append(out, esc[:n])
		esc = esc[n:]
	}
	return append(out, esc)
}

// keyPath returns the slash-separated path, relative to the root, of the
// directory holding key's data file, and the data file's name.
func keyPath(key string) (dir, file string) {
	segs := strings.Split(key, "/")
	var parts []string
	for i, seg := range segs {
		ps := pieces(escape(seg))
		for j, p := range ps {
			switch {
			case j < len(ps)-1:
				parts = append(parts, p+string(pieceMark))
			case i < len(segs)-1:
				parts = append(parts, p+string(dirMark))
			default:
				file = p
			}
		}
	}
	if len(parts) == 0 {
		return ".", file
	}
	return path.Join(parts...), file
}

// dirPrefix returns the directory, relative to the root, under which every
// key starting with prefix lives, and the key prefix that directory stands
// for: the segments of prefix before its last "/".
func dirPrefix(prefix string) (dir, keyPrefix string) {
	i := strings.LastIndexByte(prefix, '/')
	if i < 0 {
		return ".", ""
	}
	d, _ := keyPath(prefix[:i+1] + "x")
	return d, prefix[:i+1]
}

// sidecar returns the name of the metadata file for the data file name.
func sidecar(file string) string { return sidecarName + file }
