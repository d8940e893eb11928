package main

import (
	"path"
	"strings"
)

// Globs: a key with '*', '?' or '[' is a pattern, matched against whole
// keys with path.Match: '*' and '?' never match '/', so reports/*.csv
// matches reports/q3.csv and not reports/2026/q3.csv; '\' escapes the
// next character. The bucket is listed from the pattern's longest
// literal prefix.

// isGlob reports whether key is a pattern.
func isGlob(key string) bool { return strings.ContainsAny(key, "*?[") }

// globPattern checks a pattern, so that a bad one is a usage error
// before anything is listed.
func globPattern(pattern string) error {
	if _, err := path.Match(pattern, ""); err != nil {
		return usagef("%q is not a valid pattern (a '[' without its ']'?); escape a literal *, ? or [ with '\\'", pattern)
	}
	return nil
}

// literalPrefix is the part of pattern before its first metacharacter,
// escapes removed: every key the pattern matches starts with it.
func literalPrefix(pattern string) string {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '\\' && i+1 < len(pattern):
			i++
			b.WriteByte(pattern[i])
		case c == '*' || c == '?' || c == '[':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// globBase is the folder of the pattern's literal prefix ("" or ending in
// '/'): the names of what the pattern matches are taken relative to it
// when they are copied into a folder (reports/*/q3.csv copies
// reports/a/q3.csv as a/q3.csv).
func globBase(pattern string) string {
	p := literalPrefix(pattern)
	return p[:strings.LastIndex(p, "/")+1]
}

// globMatch reports whether key matches pattern: the whole key, or, when
// folders is true, the key's first segments, as many as the pattern has
// (the key is then in a folder the pattern matches: reports/2026-*
// matches reports/2026-01/a.csv). under is true in the second case, and
// folder is then the matching folder, ending in '/'.
func globMatch(pattern, key string, folders bool) (ok, under bool, folder string) {
	if m, _ := path.Match(pattern, key); m {
		return true, false, ""
	}
	if !folders {
		return false, false, ""
	}
	n := strings.Count(pattern, "/") + 1
	segs := strings.SplitN(key, "/", n+1)
	if len(segs) <= n {
		return false, false, ""
	}
	head := strings.Join(segs[:n], "/")
	if m, _ := path.Match(pattern, head); m {
		return true, true, head + "/"
	}
	return false, false, ""
}
