package aws

import "strings"

// Key escaping for Options.EscapeKeys.
//
// A stored name is EscapeMarker, then the key with each byte b mapped by g,
// then escapeEnd:
//
//	'/'         -> "/" + EscapeMarker  (no segment is empty, "." or "..")
//	0x01..0x09  -> escapeEnd + b       (keeps escapeEnd the smallest byte)
//	other bytes -> themselves
//
// escapeEnd ends every object name, so no object's name is also the
// directory of another ("a" and "a/1" both exist as files on MinIO). The
// mapping keeps byte order (escapeEnd sorts below every mapped byte) and
// prefixes (a prefix maps without escapeEnd), so listing, paging and
// delimiters work on stored names as they would on keys.
const escapeEnd = '\t'

// escapeKey maps key to its stored form; object names get escapeEnd, list
// prefixes do not.
func escapeKey(key string, object bool) string {
	var b strings.Builder
	b.Grow(len(key) + 8)
	b.WriteString(EscapeMarker)
	escapeBytes(&b, key)
	if object {
		b.WriteByte(escapeEnd)
	}
	return b.String()
}

// escapeBytes writes g(s).
func escapeBytes(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/':
			b.WriteByte('/')
			b.WriteString(EscapeMarker)
		case c >= 0x01 && c <= escapeEnd:
			b.WriteByte(escapeEnd)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
}

// escapeDelimiter maps a list delimiter: g without marker or end. A
// trailing "/" stays bare, since every "/" of a stored name is followed by
// the marker anyway; servers page through a plain "/" best.
func escapeDelimiter(d string) string {
	var b strings.Builder
	escapeBytes(&b, d)
	out := b.String()
	if strings.HasSuffix(d, "/") {
		out = strings.TrimSuffix(out, EscapeMarker)
	}
	return out
}

// unescapeKey inverts escapeKey, for object names and for the common
// prefixes a delimiter gives; false for names escapeKey never makes.
func unescapeKey(name string) (string, bool) {
	if !strings.HasPrefix(name, EscapeMarker) {
		return "", false
	}
	s := name[len(EscapeMarker):]
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/':
			b.WriteByte('/')
			if !strings.HasPrefix(s[i+1:], EscapeMarker) {
				if i+1 != len(s) {
					return "", false
				}
			} else {
				i += len(EscapeMarker)
			}
		case c == escapeEnd:
			if i+1 == len(s) {
				return b.String(), true
			}
			n := s[i+1]
			if n < 0x01 || n > escapeEnd {
				return "", false
			}
			b.WriteByte(n)
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}
