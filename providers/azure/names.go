package azure

import "strings"

// Azure reads '\' in a blob name as '/', so a key holding one would come
// back changed. Keys are stored with '\' written as "]A" and ']' as "]]"
// (nothing else changes). The mapping keeps byte order and prefixes, so
// List with a prefix, a delimiter and pages works on stored names as on
// keys: ']' (0x5D) is the first byte after '\' (0x5C), and "]A" sorts
// before "]]". A key with ']' or '\' is one byte longer per such character
// in the store, within Azure's 1,024-character limit.
var (
	nameEscaper   = strings.NewReplacer(`]`, `]]`, `\`, `]A`)
	nameUnescaper = strings.NewReplacer(`]]`, `]`, `]A`, `\`)
)

// stored is the blob name for key (or for a list prefix or delimiter).
func stored(key string) string {
	if !strings.ContainsAny(key, `]\`) {
		return key
	}
	return nameEscaper.Replace(key)
}

// keyOf is the key for a stored blob name.
func keyOf(name string) string {
	if !strings.Contains(name, "]") {
		return name
	}
	return nameUnescaper.Replace(name)
}
