package main

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeTree writes files (slash paths to contents) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o777))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o666))
	}
}

// readTree reads every file under dir, hidden ones included.
func readTree(t *testing.T, dir string) map[string]string {
	got := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			got[filepath.ToSlash(rel)] = readFile(t, p)
		}
		return nil
	}))
	return got
}

// keys lists the keys under prefix at addr (ls -r, keys only).
func (c *cli) keys(addr string) []string {
	out := strings.TrimSpace(c.ok("", "ls", "-r", addr))
	if out == "" {
		return nil
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		lines[i] = f[len(f)-1]
	}
	sort.Strings(lines)
	return lines
}

// sortedLines splits out into its lines, sorted: parallel transfers print
// in any order.
func sortedLines(out string) []string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	sort.Strings(lines)
	return lines
}

var sample = map[string]string{
	"a.csv":          "a,b\n",
	"index.html":     "<p>hi</p>",
	"sub/b.txt":      "bee",
	"sub/deep/c.bin": strings.Repeat("c", 100_000),
}

// TestRecursiveCopy copies a local folder to a memory bucket's prefix,
// from there to the default (directory) bucket, and back to a local
// folder: every file, named relative to the folder, each with a line; a
// key that only starts like the folder is left out.
func TestRecursiveCopy(t *testing.T) {
	c := newCLI(t)
	src := t.TempDir()
	writeTree(t, src, sample)
	m := "mem://" + memName()
	c.ok("no", "cp", "-", m+"/upper.txt") // not under up/

	out := c.ok("", "cp", "-r", src, m+"/up")
	require.Equal(t, []string{
		"upload: " + filepath.Join(src, "a.csv") + " to " + m + "/up/a.csv",
		"upload: " + filepath.Join(src, "index.html") + " to " + m + "/up/index.html",
		"upload: " + filepath.Join(src, "sub", "b.txt") + " to " + m + "/up/sub/b.txt",
		"upload: " + filepath.Join(src, "sub", "deep", "c.bin") + " to " + m + "/up/sub/deep/c.bin",
	}, sortedLines(out))
	require.Equal(t, []string{"up/a.csv", "up/index.html", "up/sub/b.txt", "up/sub/deep/c.bin", "upper.txt"}, c.keys(m))

	// Content types from the extensions.
	for key, want := range map[string]string{"up/a.csv": "text/csv", "up/index.html": "text/html", "up/sub/b.txt": "text/plain"} {
		var got statJSON
		require.NoError(t, jsonDecode(c.ok("", "stat", m+"/"+key), &got))
		require.True(t, strings.HasPrefix(got.ContentType, want), "%s: %s", key, got.ContentType)
	}

	out = c.ok("", "cp", "-r", "-j", "2", m+"/up", ":copy/")
	require.Len(t, sortedLines(out), 4)
	require.True(t, strings.HasPrefix(sortedLines(out)[0], "copy: "+m+"/up/a.csv to :copy/a.csv"), out)

	dl := filepath.Join(t.TempDir(), "dl")
	out = c.ok("", "cp", "-r", ":copy", dl)
	require.Contains(t, out, "download: :copy/sub/b.txt to "+filepath.Join(dl, "sub", "b.txt")+"\n")
	require.Equal(t, sample, readTree(t, dl))

	// The downloaded files have the objects' modification times.
	obj, err := memBucket(t, strings.TrimPrefix(m, "mem://")).Attributes(context.Background(), "up/a.csv")
	require.NoError(t, err)
	st, err := os.Stat(filepath.Join(dl, "a.csv"))
	require.NoError(t, err)
	var cp statJSON
	require.NoError(t, jsonDecode(c.ok("", "stat", ":copy/a.csv"), &cp))
	require.WithinDuration(t, cp.ModTime, st.ModTime(), time.Second)
	require.False(t, obj.ModTime.IsZero())

	// -q prints nothing.
	require.Empty(t, c.ok("", "cp", "-r", "-q", src, m+"/quiet/"))

	// Mistakes.
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"cp", src, m + "/x/"}, 2, "is a folder, not one object: add -r"},
		{[]string{"cp", "-r", m + "/nothing-here", dl}, 3, "nothing under " + m + "/nothing-here"},
		{[]string{"cp", "-r", src, "-"}, 2, "several files cannot go to standard output"},
		{[]string{"cp", "-r", "--content-type", "x/y", ":copy", dl}, 2, "apply to an object destination"},
		{[]string{"cp", "-r", "-j", "0", src, m}, 2, "-j 0"},
		{[]string{"cp", "-r", "-n", "--if-not-exist", src, m}, 2, "choose one"},
		{[]string{"cp", "-r", "--metadata", "novalue", src, m}, 2, "write KEY=VALUE"},
	} {
		code, _, errOut := c.run("", tt.args...)
		require.Equal(t, tt.code, code, "%v: %s", tt.args, errOut)
		require.Contains(t, errOut, tt.msg, tt.args)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "one line")
	}
}

// TestKeysThatAreNoFileNames: a download never writes outside its folder.
func TestKeysThatAreNoFileNames(t *testing.T) {
	c := newCLI(t)
	m := "mem://" + memName()
	c.ok("x", "cp", "-", m+"/p/ok.txt")
	c.ok("x", "cp", "-", m+"/p/../escape.txt")
	dir := t.TempDir()
	dl := filepath.Join(dir, "dl")
	code, _, errOut := c.run("", "cp", "-r", m+"/p/", dl)
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, `the key "../escape.txt" cannot be a file under`)
	require.Equal(t, []string(nil), nilIfEmpty(dirNames(t, dir)), "nothing written")
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// TestGlobs: patterns in cp sources, on objects and local files.
func TestGlobs(t *testing.T) {
	c := newCLI(t)
	m := "mem://" + memName()
	for _, k := range []string{"reports/q1.csv", "reports/q2.csv", "reports/notes.txt", "reports/2026/q3.csv", "reports/a/q3.csv", "reports-old/q0.csv"} {
		c.ok(k, "cp", "-", m+"/"+k)
	}
	dl := t.TempDir()
	out := c.ok("", "cp", m+"/reports/*.csv", dl)
	require.Equal(t, []string{
		"download: " + m + "/reports/q1.csv to " + filepath.Join(dl, "q1.csv"),
		"download: " + m + "/reports/q2.csv to " + filepath.Join(dl, "q2.csv"),
	}, sortedLines(out))

	// Named relative to the pattern's literal folder; to the default bucket.
	c.ok("", "cp", m+"/reports/*/q3.csv", ":got/")
	require.Equal(t, []string{"got/2026/q3.csv", "got/a/q3.csv"}, c.keys(":"))

	// With -r a pattern matches folders too.
	c.ok("", "cp", "-r", m+"/report[st]*", ":r/")
	require.Equal(t, []string{"got/2026/q3.csv", "got/a/q3.csv",
		"r/reports-old/q0.csv", "r/reports/2026/q3.csv", "r/reports/a/q3.csv", "r/reports/notes.txt", "r/reports/q1.csv", "r/reports/q2.csv"}, c.keys(":"))

	// Local patterns, quoted from the shell, and several sources.
	local := t.TempDir()
	writeTree(t, local, sample)
	c.ok("", "cp", filepath.Join(local, "*.*"), m+"/l/")
	c.ok("", "cp", filepath.Join(local, "sub", "b.txt"), filepath.Join(local, "a.csv"), m+"/many")
	require.Equal(t, []string{"l/a.csv", "l/index.html"}, c.keys(m+"/l/"))
	require.Equal(t, []string{"many/a.csv", "many/b.txt"}, c.keys(m+"/many/"))

	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"cp", m + "/reports/*.pdf", dl}, 3, "no object matches " + m + "/reports/*.pdf"},
		{[]string{"cp", filepath.Join(local, "*.pdf"), m}, 3, "no file matches"},
		{[]string{"cp", m + "/reports/[q", dl}, 2, "is not a valid pattern"},
	} {
		code, _, errOut := c.run("", tt.args...)
		require.Equal(t, tt.code, code, "%v: %s", tt.args, errOut)
		require.Contains(t, errOut, tt.msg, tt.args)
	}
}

// TestNoClobberAndWriteFlags: -n skips what exists (objects and files);
// --metadata, --cache-control and --content-disposition set what a write
// stores, and --metadata replaces a copy's.
func TestNoClobberAndWriteFlags(t *testing.T) {
	c := newCLI(t)
	m := "mem://" + memName()
	src := t.TempDir()
	writeTree(t, src, sample)
	c.ok("old", "cp", "-", m+"/up/a.csv")
	out := c.ok("", "cp", "-r", "-n", src, m+"/up")
	require.Contains(t, out, "skip: "+m+"/up/a.csv exists\n")
	require.Len(t, sortedLines(out), 4)
	require.Equal(t, "old", c.ok("", "cat", m+"/up/a.csv"))
	require.Equal(t, "bee", c.ok("", "cat", m+"/up/sub/b.txt"))
	code, _, errOut := c.run("", "cp", "--if-not-exist", filepath.Join(src, "a.csv"), m+"/up/a.csv")
	require.Equal(t, 4, code, errOut)

	dl := t.TempDir()
	writeTree(t, dl, map[string]string{"a.csv": "mine"})
	c.ok("", "cp", "-r", "-n", m+"/up/", dl)
	require.Equal(t, "mine", readFile(t, filepath.Join(dl, "a.csv")))
	require.Equal(t, "bee", readFile(t, filepath.Join(dl, "sub", "b.txt")))

	c.ok("", "cp", "--metadata", "owner=ops", "--metadata", "team=blue=green", "--cache-control", "max-age=60",
		"--content-disposition", "attachment", filepath.Join(src, "index.html"), m+"/site/")
	var got statJSON
	require.NoError(t, jsonDecode(c.ok("", "stat", m+"/site/index.html"), &got))
	require.Equal(t, map[string]string{"owner": "ops", "team": "blue=green"}, got.Metadata)
	require.Equal(t, "max-age=60", got.CacheControl)
	require.Equal(t, "attachment", got.ContentDisposition)
	require.True(t, strings.HasPrefix(got.ContentType, "text/html"), got.ContentType)

	// A server-side copy keeps them, or takes the new metadata; a new
	// cache-control goes through the command (same bucket, not server-side).
	c.ok("", "cp", m+"/site/index.html", m+"/site/kept.html")
	c.ok("", "cp", "--metadata", "owner=dev", m+"/site/index.html", m+"/site/meta.html")
	c.ok("", "cp", "--cache-control", "no-store", "--content-type", "text/x-custom", m+"/site/index.html", m+"/site/cc.html")
	for key, want := range map[string]statJSON{
		"kept.html": {Metadata: map[string]string{"owner": "ops", "team": "blue=green"}, CacheControl: "max-age=60"},
		"meta.html": {Metadata: map[string]string{"owner": "dev"}, CacheControl: "max-age=60"},
		"cc.html":   {Metadata: map[string]string{"owner": "ops", "team": "blue=green"}, CacheControl: "no-store", ContentType: "text/x-custom"},
	} {
		var got statJSON
		require.NoError(t, jsonDecode(c.ok("", "stat", m+"/site/"+key), &got))
		require.Equal(t, want.Metadata, got.Metadata, key)
		require.Equal(t, want.CacheControl, got.CacheControl, key)
		require.Equal(t, "attachment", got.ContentDisposition, key)
		if want.ContentType != "" {
			require.Equal(t, want.ContentType, got.ContentType, key)
		}
	}
}
