package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncRoundTrip syncs a local folder up to remote, down to another local
// folder, and remote to remote2 (bucket to bucket): everything the first
// time, nothing the second, only what changed after a change, and with
// --delete what is gone; --dry-run changes nothing.
func syncRoundTrip(t *testing.T, c *cli, remote, remote2 string) {
	src := t.TempDir()
	writeTree(t, src, sample)
	down := filepath.Join(t.TempDir(), "down")

	require.Len(t, sortedLines(c.ok("", "sync", src, remote)), 4)
	require.Empty(t, c.ok("", "sync", src, remote), "nothing changed: nothing copied")
	require.Len(t, sortedLines(c.ok("", "sync", remote, down)), 4)
	require.Equal(t, sample, readTree(t, down))
	require.Empty(t, c.ok("", "sync", remote, down), "nothing changed: nothing downloaded")
	require.Len(t, sortedLines(c.ok("", "sync", remote, remote2)), 4)
	require.Empty(t, c.ok("", "sync", remote, remote2), "nothing changed: nothing copied")

	// A change of size, a change of content only (newer, in a later
	// second than the upload), a new file, a gone file.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 50*time.Millisecond))) // file times lag the clock a little
	writeTree(t, src, map[string]string{"a.csv": "a,b,c\n", "sub/b.txt": "BEE", "new.txt": "new"})
	require.NoError(t, os.Remove(filepath.Join(src, "index.html")))

	dry := c.ok("", "sync", "--dry-run", "--delete", src, remote)
	require.Equal(t, []string{
		"(dryrun) delete: " + strings.TrimSuffix(display(mustObject(t, c, remote)), "/") + "/index.html",
		"(dryrun) upload: " + filepath.Join(src, "a.csv") + " to " + strings.TrimSuffix(display(mustObject(t, c, remote)), "/") + "/a.csv",
		"(dryrun) upload: " + filepath.Join(src, "new.txt") + " to " + strings.TrimSuffix(display(mustObject(t, c, remote)), "/") + "/new.txt",
		"(dryrun) upload: " + filepath.Join(src, "sub", "b.txt") + " to " + strings.TrimSuffix(display(mustObject(t, c, remote)), "/") + "/sub/b.txt",
	}, sortedLines(dry))
	require.Len(t, sortedLines(c.ok("", "sync", "--dry-run", src, remote)), 3, "no delete without --delete")
	require.Len(t, sortedLines(c.ok("", "sync", "--delete", src, remote)), 4)
	require.Empty(t, c.ok("", "sync", "--delete", src, remote))

	want := map[string]string{"a.csv": "a,b,c\n", "sub/b.txt": "BEE", "new.txt": "new", "sub/deep/c.bin": sample["sub/deep/c.bin"]}
	out := c.ok("", "sync", "--delete", remote, down)
	require.Len(t, sortedLines(out), 4, out) // 3 downloads, 1 delete
	require.Equal(t, want, readTree(t, down))
	require.Empty(t, c.ok("", "sync", "--delete", remote, down))

	out = c.ok("", "sync", "--delete", remote, remote2)
	require.Len(t, sortedLines(out), 4, out)
	require.Empty(t, c.ok("", "sync", "--delete", remote, remote2))
	dl := t.TempDir()
	c.ok("", "sync", remote2, dl)
	require.Equal(t, want, readTree(t, dl))
}

func TestSyncLocalAndMemory(t *testing.T) {
	c := newCLI(t)
	m := "mem://" + memName()
	syncRoundTrip(t, c, m+"/site", ":mirror")
}

func TestSyncMistakes(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o666))
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"sync", dir, dir}, 2, "is in a bucket"},
		{[]string{"sync", ":a", ":a/"}, 2, "are the same folder"},
		{[]string{"sync", "-", ":a"}, 2, "folders only"},
		{[]string{"sync", file, ":a"}, 2, "is a file"},
		{[]string{"sync", filepath.Join(dir, "absent"), ":a"}, 3, "no such file"},
		{[]string{"sync", "--content-type", "x/y", ":a", dir}, 2, "apply to a bucket destination"},
	} {
		code, _, errOut := c.run("", tt.args...)
		require.Equal(t, tt.code, code, "%v: %s", tt.args, errOut)
		require.Contains(t, errOut, tt.msg, tt.args)
	}
}
