package main

import (
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/anyblob/anyblob/blob"
)

// item is one file or object of a tree.
type item struct {
	rel     string // slash-separated, relative to the tree's base
	size    int64
	modTime time.Time
	etag    string // objects only
}

// tree is the files under a local folder or the objects under a bucket
// prefix: what a recursive copy, a glob or sync works on.
type tree struct {
	// base is the folder: a local directory (path), or a bucket and a
	// prefix (key, "" or ending in '/').
	base  address
	items []item
}

// errNotFound is a failure to find what an argument names, which is not
// the library's: a pattern that matches nothing, an empty folder.
type errNotFound struct{ msg string }

func (e errNotFound) Error() string        { return e.msg }
func (e errNotFound) Is(target error) bool { return target == fs.ErrNotExist }

// asFolder returns a as a folder: an object's key ending in '/' (or ""),
// a local path taken as a directory.
func asFolder(a address) address {
	if a.kind == addrObject && a.key != "" && !strings.HasSuffix(a.key, "/") {
		a.key += "/"
	}
	a.folder = true
	return a
}

// under is the address of rel under the folder base. For a local folder,
// rel must name a file inside it: a key such as ../x, /x or a//b cannot
// be written as a file there, and is refused rather than written
// elsewhere.
func under(base address, rel string) (address, error) {
	a := base
	a.folder = false
	if base.kind == addrObject {
		a.key = base.key + rel
		a.raw = display(a)
		return a, nil
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsRune(seg, filepath.Separator) {
			return address{}, usagef("the key %q cannot be a file under %s (an empty, '.' or '..' segment); copy it by name", rel, base.path)
		}
	}
	a.path = filepath.Join(base.path, filepath.FromSlash(rel))
	a.raw = a.path
	return a, nil
}

// listTree lists the objects under the folder base (base.key is "" or
// ends in '/'). Folder markers (keys ending in '/') are left out: they
// are no file and hold no data.
func listTree(ctx context.Context, bs *buckets, base address) (tree, error) {
	b, err := bs.get(ctx, base)
	if err != nil {
		return tree{}, err
	}
	t := tree{base: base}
	for obj, err := range blob.Objects(ctx, b, &blob.ListOptions{Prefix: base.key}) {
		if err != nil {
			return tree{}, err
		}
		if strings.HasSuffix(obj.Key, "/") {
			continue
		}
		t.items = append(t.items, item{rel: obj.Key[len(base.key):], size: obj.Size, modTime: obj.ModTime, etag: obj.ETag})
	}
	return t, nil
}

// walkTree lists the files under the local directory base.path, following
// symbolic links to files (not to folders). anyblob's own hidden files
// (a directory bucket's .anyblob folder, a download's temporary file) are
// left out.
func walkTree(base address) (tree, error) {
	t := tree{base: base}
	err := filepath.WalkDir(base.path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if name == ".anyblob" && p != base.path {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, ".anyblob-") && strings.HasSuffix(name, ".tmp") || name == "%!lock" {
			return nil
		}
		info, err := os.Stat(p) // follows a link
		if err != nil || !info.Mode().IsRegular() {
			return nil // a dangling link, a socket, a link to a folder
		}
		rel, err := filepath.Rel(base.path, p)
		if err != nil {
			return err
		}
		t.items = append(t.items, item{rel: filepath.ToSlash(rel), size: info.Size(), modTime: info.ModTime()})
		return nil
	})
	return t, err
}

// isGlobArg reports whether a is a pattern: an object's key with a
// metacharacter, or a local path with one that names no file as written.
func isGlobArg(a address) bool {
	switch a.kind {
	case addrObject:
		return isGlob(a.key)
	case addrLocal:
		if !isGlob(a.path) {
			return false
		}
		_, err := os.Lstat(a.path)
		return err != nil
	}
	return false
}

// expand lists what the source a names for a copy of many: what a
// pattern matches (with recursive, the contents of the folders it
// matches too), or, with recursive, what is under a folder. Names are
// relative to the pattern's literal folder, or to the folder.
func expand(ctx context.Context, bs *buckets, a address, recursive bool) (tree, error) {
	switch {
	case a.kind == addrObject && isGlob(a.key):
		return globObjects(ctx, bs, a, recursive)
	case a.kind == addrObject:
		if a.key != "" && !recursive {
			return tree{}, usagef("%s names one object; -r copies a folder", a.raw)
		}
		return listTree(ctx, bs, asFolder(a))
	case isGlobArg(a):
		return globFiles(a, recursive)
	}
	st, err := os.Stat(a.path)
	if err != nil {
		return tree{}, err
	}
	if !st.IsDir() { // one file: its name, in its folder
		base := address{raw: filepath.Dir(a.path), kind: addrLocal, path: filepath.Dir(a.path), folder: true}
		return tree{base: base, items: []item{{rel: filepath.Base(a.path), size: st.Size(), modTime: st.ModTime()}}}, nil
	}
	if !recursive {
		return tree{}, usagef("%s is a folder: add -r to copy what is under it", a.raw)
	}
	return walkTree(asFolder(a))
}

// globObjects lists the objects the pattern a.key matches.
func globObjects(ctx context.Context, bs *buckets, a address, recursive bool) (tree, error) {
	if err := globPattern(a.key); err != nil {
		return tree{}, err
	}
	b, err := bs.get(ctx, a)
	if err != nil {
		return tree{}, err
	}
	base := a
	base.key, base.folder = globBase(a.key), true
	t := tree{base: base}
	for obj, err := range blob.Objects(ctx, b, &blob.ListOptions{Prefix: literalPrefix(a.key)}) {
		if err != nil {
			return tree{}, err
		}
		if ok, _, _ := globMatch(a.key, obj.Key, recursive); !ok || strings.HasSuffix(obj.Key, "/") {
			continue
		}
		t.items = append(t.items, item{rel: obj.Key[len(base.key):], size: obj.Size, modTime: obj.ModTime, etag: obj.ETag})
	}
	if len(t.items) == 0 {
		return t, errNotFound{"no object matches " + a.raw}
	}
	return t, nil
}

// globFiles lists the local files the pattern a.path matches (with
// recursive, the files under the folders it matches too), relative to
// the pattern's literal folder.
func globFiles(a address, recursive bool) (tree, error) {
	matches, err := filepath.Glob(a.path)
	if err != nil {
		return tree{}, usagef("%q is not a valid pattern; escape a literal *, ? or [ with '\\'", a.path)
	}
	dir := literalDir(a.path)
	base := address{raw: dir, kind: addrLocal, path: dir, folder: true}
	t := tree{base: base}
	for _, m := range matches {
		st, err := os.Stat(m)
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(dir, m)
		if err != nil {
			return tree{}, err
		}
		if !st.IsDir() {
			t.items = append(t.items, item{rel: filepath.ToSlash(rel), size: st.Size(), modTime: st.ModTime()})
			continue
		}
		if !recursive {
			continue
		}
		sub, err := walkTree(address{kind: addrLocal, path: m})
		if err != nil {
			return tree{}, err
		}
		for _, it := range sub.items {
			it.rel = path.Join(filepath.ToSlash(rel), it.rel)
			t.items = append(t.items, it)
		}
	}
	if len(t.items) == 0 {
		return t, errNotFound{"no file matches " + a.raw}
	}
	return t, nil
}

// literalDir is the directory of a local pattern before its first
// segment with a metacharacter ("." when that is the first).
func literalDir(pattern string) string {
	segs := strings.Split(pattern, string(filepath.Separator))
	i := 0
	for i < len(segs)-1 && !isGlob(segs[i]) {
		i++
	}
	dir := strings.Join(segs[:i], string(filepath.Separator))
	switch {
	case i == 0:
		return "."
	case dir == "":
		return string(filepath.Separator)
	}
	return dir
}
