package main

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCatRanges, on the default (directory) bucket and memory.
func TestCatRanges(t *testing.T) {
	for _, base := range []string{":", "mem://" + memName() + "/"} {
		c := newCLI(t)
		c.ok("0123456789", "cp", "-", base+"digits")
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"--range", "2-4"}, "234"},
			{[]string{"--range", "7-"}, "789"},
			{[]string{"--range", "-3"}, "789"},
			{[]string{"--range", "-30"}, "0123456789"},
			{[]string{"--range", "8-100"}, "89"},
			{[]string{"--range", "20-"}, ""},
			{[]string{"--offset", "5"}, "56789"},
			{[]string{"--offset", "5", "--length", "2"}, "56"},
			{[]string{"--length", "1"}, "0"},
		} {
			require.Equal(t, tt.want, c.ok("", append(append([]string{"cat"}, tt.args...), base+"digits")...), "%s %v", base, tt.args)
		}
		for _, args := range [][]string{{"--range", "4-2"}, {"--range", "x"}, {"--range", "-"}, {"--range", "1-2", "--offset", "1"}, {"--offset", "-1"}} {
			code, _, errOut := c.run("", append(append([]string{"cat"}, args...), base+"digits")...)
			require.Equal(t, 2, code, "%v: %s", args, errOut)
		}
		code, _, _ := c.run("", "cat", "--range", "-3", base+"absent")
		require.Equal(t, 3, code)
	}
}

// TestStatMD5InHex: the MD5 is hex, the ETag as the backend gives it.
func TestStatMD5InHex(t *testing.T) {
	for _, base := range []string{":", "mem://" + memName() + "/"} {
		c := newCLI(t)
		c.ok("hello", "cp", "-", base+"h")
		var got statJSON
		require.NoError(t, jsonDecode(c.ok("", "stat", base+"h"), &got))
		sum := md5.Sum([]byte("hello"))
		require.Equal(t, hex.EncodeToString(sum[:]), got.MD5)
		require.NotEmpty(t, got.ETag)
	}
}

// TestDu: totals under a folder (not a raw prefix unless --prefix), of
// a pattern, of the whole bucket.
func TestDu(t *testing.T) {
	for _, base := range []string{":", "mem://" + memName() + "/"} {
		c := newCLI(t)
		c.fill(base, "big/a.txt", "big/sub/b.txt", "bigger.txt", "logs/1.gz")
		c.ok(strings.Repeat("x", 2048), "cp", "-", base+"big/k.bin")
		shown := func(k string) string { return display(mustObject(t, c, base+k)) }
		require.Equal(t, "2070\t3 objects\t"+shown("big/")+"\n", c.ok("", "du", base+"big"))
		require.Equal(t, "2.0 KiB\t3 objects\t"+shown("big/")+"\n", c.ok("", "du", "-H", base+"big"))
		require.Equal(t, "2080\t4 objects\t"+shown("big")+"\n", c.ok("", "du", "--prefix", base+"big"))
		require.Equal(t, "10\t1 object\t"+base+"*.txt\n", c.ok("", "du", base+"*.txt"))
		require.Equal(t, "2080\t4 objects\t"+base+"b*\n", c.ok("", "du", base+"b*"))
		require.Contains(t, c.ok("", "du", base), "\t5 objects\t")
		code, _, _ := c.run("", "du", base+"*.pdf")
		require.Equal(t, 3, code)
	}
}

// TestMove: mv within a bucket (server-side), between buckets, up and
// down, with -r and a pattern; the sources go, and a failed or skipped
// copy keeps its source.
func TestMove(t *testing.T) {
	c := newCLI(t)
	m := "mem://" + memName()
	c.fill(m+"/", "in/a.csv", "in/b.csv", "in/sub/c.txt")
	out := c.ok("", "mv", m+"/in/a.csv", m+"/out/")
	require.Equal(t, "move: "+m+"/in/a.csv to "+m+"/out/a.csv\n", out)
	c.ok("", "mv", "-r", m+"/in", ":moved")
	require.Equal(t, []string{"out/a.csv"}, c.keys(m))
	require.Equal(t, []string{"moved/b.csv", "moved/sub/c.txt"}, c.keys(":"))

	dir := t.TempDir()
	c.ok("", "mv", ":moved/*.csv", dir)
	require.Equal(t, "in/b.csv", readFile(t, filepath.Join(dir, "b.csv")))
	require.Equal(t, []string{"moved/sub/c.txt"}, c.keys(":"))

	c.ok("", "mv", filepath.Join(dir, "b.csv"), m+"/up/")
	_, err := os.Stat(filepath.Join(dir, "b.csv"))
	require.True(t, os.IsNotExist(err), "the file moved")
	require.Equal(t, "in/b.csv", c.ok("", "cat", m+"/up/b.csv"))

	c.ok("other", "cp", "-", m+"/taken/a.csv")
	c.ok("", "mv", "-n", m+"/out/a.csv", m+"/taken/")
	require.Equal(t, "in/a.csv", c.ok("", "cat", m+"/out/a.csv"), "a skipped move keeps its source")
	code, _, errOut := c.run("", "mv", m+"/out/a.csv", m+"/out/a.csv")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "are the same object")
	code, _, errOut = c.run("", "mv", m+"/absent", m+"/x")
	require.Equal(t, 3, code, errOut)
}
