package fileblob

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNames checks that every segment escapes to a name the layout can
// read back, and that no piece of a name is ".", "..", empty, over the
// name limit, or starts like an internal name. Run with
// go test -fuzz FuzzNames ./blob/fileblob.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a+", "%", "%!lock", strings.Repeat("é", 300), "x/y", "\x00", "~+%+", ".anyblob/x", "a/../b", ".ANYBLOB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if !utf8.ValidString(key) || strings.IndexByte(key, 0) >= 0 || len(key) == 0 || len(key) > 1024 {
			return
		}
		for _, seg := range strings.Split(key, "/") {
			esc := escape(seg)
			back, ok := unescape(esc)
			if !ok || back != seg {
				t.Fatalf("segment %q escapes to %q, which reads back as %q (ok=%v)", seg, esc, back, ok)
			}
			ps := pieces(esc)
			if strings.Join(ps, "") != esc {
				t.Fatalf("pieces of %q do not join back", esc)
			}
			for i, p := range ps {
				if p == "" || p == "." || p == ".." || len(p) > maxName || strings.HasPrefix(p, internal) {
					t.Fatalf("piece %d of %q is %q", i, esc, p)
				}
			}
		}
		if naturalKey(key) {
			// A key kept as its own path names nothing outside the root,
			// no name over the limit, and not the hidden folder.
			for i, seg := range strings.Split(key, "/") {
				if seg == "" || seg == "." || seg == ".." || len(seg) > nameMax || (i == 0 && strings.EqualFold(seg, hiddenDir)) {
					t.Fatalf("key %q is taken as a path, but has segment %q", key, seg)
				}
			}
		}
		dir, file := keyPath(key)
		if file == "" || strings.Contains(file, "/") || strings.HasPrefix(file, internal) {
			t.Fatalf("key %q has file name %q", key, file)
		}
		for _, part := range strings.Split(dir, "/") {
			if part == ".." || len(part) > maxName+1 {
				t.Fatalf("key %q has directory part %q", key, part)
			}
		}
	})
}
