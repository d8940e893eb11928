package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fill writes each key (its own name as content) through the command.
func (c *cli) fill(base string, keys ...string) {
	for _, k := range keys {
		c.ok(k, "cp", "-", base+k)
	}
}

// TestListLongHumanAndGlobs, on the default (directory) bucket and on
// memory: -l's sizes, times and total, -H, and patterns with and
// without -r.
func TestListLongHumanAndGlobs(t *testing.T) {
	for _, base := range []string{":", "mem://" + memName() + "/"} {
		t.Run(strings.TrimSuffix(base, "/"), func(t *testing.T) {
			c := newCLI(t)
			c.fill(base, "reports/q1.csv", "reports/q2.csv", "reports/notes.txt", "reports/2026/q3.csv", "reports-old/q0.csv")
			c.ok(strings.Repeat("x", 3<<20), "cp", "-", base+"big.bin")

			long := strings.Split(strings.TrimSuffix(c.ok("", "ls", "-l", base), "\n"), "\n")
			require.Len(t, long, 4)
			require.Regexp(t, `^ +3145728  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  big\.bin$`, long[0])
			require.Regexp(t, `^ +PRE  +reports-old/$`, long[1])
			require.Equal(t, "TOTAL: 1 object, 3145728 bytes (3.0 MiB)", long[3])
			require.Regexp(t, `^ +3\.0 MiB  .*  big\.bin$`, strings.Split(c.ok("", "ls", "-lH", base+"big"), "\n")[0])

			require.Equal(t, "reports/q1.csv\nreports/q2.csv\n", c.ok("", "ls", base+"reports/*.csv"))
			require.Equal(t, "reports/2026/q3.csv\n", c.ok("", "ls", base+"reports/*/*.csv"))
			require.Equal(t, "reports-old/\nreports/\n", c.ok("", "ls", base+"rep*"))
			require.Equal(t, "reports-old/q0.csv\nreports/2026/q3.csv\nreports/notes.txt\nreports/q1.csv\nreports/q2.csv\n",
				c.ok("", "ls", "-r", base+"rep*"))
			require.Regexp(t, `(?s)q1\.csv\n.*q2\.csv\nTOTAL: 2 objects, 28 bytes\n$`, c.ok("", "ls", "-l", base+"reports/q[12].csv"))

			code, _, errOut := c.run("", "ls", base+"reports/*.pdf")
			require.Equal(t, 3, code, errOut)
			require.Contains(t, errOut, "no object matches")
			code, _, errOut = c.run("", "ls", base+"reports/[")
			require.Equal(t, 2, code, errOut)
		})
	}
}

// TestRemoveFoldersPrefixesGlobs: rm -r takes a folder, --prefix a raw
// prefix; --dry-run deletes nothing; patterns; counts that are true.
func TestRemoveFoldersPrefixesGlobs(t *testing.T) {
	for _, base := range []string{":", "mem://" + memName() + "/"} {
		t.Run(strings.TrimSuffix(base, "/"), func(t *testing.T) {
			c := newCLI(t)
			c.fill(base, "big/a.txt", "big/sub/b.txt", "bigger.txt", "logs/1.gz", "logs/2.gz", "logs/keep.txt", "logs/old/3.gz")
			shown := func(k string) string { return display(mustObject(t, c, base+k)) }

			require.Equal(t, "(dryrun) delete: "+shown("big/a.txt")+"\n(dryrun) delete: "+shown("big/sub/b.txt")+
				"\n(dryrun) would delete 2 objects under big/\n", c.ok("", "rm", "-r", "--dry-run", base+"big"))
			require.Len(t, c.keys(base), 7, "a dry run deletes nothing")
			require.Equal(t, "deleted 2 objects under big/\n", c.ok("", "rm", "-r", base+"big"))
			require.Contains(t, c.keys(base), "bigger.txt", "rm -r big leaves bigger.txt")

			c.fill(base, "big/a.txt")
			require.Equal(t, "deleted 2 objects under big\n", c.ok("", "rm", "-r", "--prefix", base+"big"))
			require.NotContains(t, c.keys(base), "bigger.txt")

			require.Equal(t, "(dryrun) delete: "+shown("logs/1.gz")+"\n(dryrun) delete: "+shown("logs/2.gz")+"\n",
				c.ok("", "rm", "--dry-run", base+"logs/*.gz"))
			require.Equal(t, "delete: "+shown("logs/1.gz")+"\ndelete: "+shown("logs/2.gz")+"\n", c.ok("", "rm", base+"logs/*.gz"))
			require.Equal(t, []string{"logs/keep.txt", "logs/old/3.gz"}, c.keys(base))
			c.ok("", "rm", "-r", "-q", base+"lo*")
			require.Empty(t, c.keys(base))
			require.Equal(t, "deleted 0 objects under gone/\n", c.ok("", "rm", "-r", base+"gone"))

			code, _, errOut := c.run("", "rm", base+"logs/*.gz")
			require.Equal(t, 3, code, errOut)
			code, _, errOut = c.run("", "rm", "--prefix", base+"x")
			require.Equal(t, 2, code, errOut)
			require.Contains(t, errOut, "add -r")
		})
	}
}

func mustObject(t *testing.T, c *cli, arg string) address {
	a, err := resolver{defaultBucket: c.bucket}.object(arg)
	require.NoError(t, err)
	return a
}
