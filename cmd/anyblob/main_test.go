package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMain runs the command itself when ANYBLOB_RUN_MAIN is set, so that
// tests can run it as a process (to send it signals).
func TestMain(m *testing.M) {
	if os.Getenv("ANYBLOB_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// cli runs command lines against one file bucket in a temp directory.
type cli struct {
	t      *testing.T
	bucket string
}

func newCLI(t *testing.T) *cli {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(t.TempDir()), RawQuery: "create_dir=true"}
	return &cli{t: t, bucket: u.String()}
}

// run returns the exit status, standard output and standard error.
func (c *cli) run(stdin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"-bucket", c.bucket}, args...), strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func (c *cli) ok(stdin string, args ...string) string {
	code, out, errOut := c.run(stdin, args...)
	require.Equal(c.t, 0, code, "anyblob %v: %s", args, errOut)
	return out
}

func TestCopyCatAndList(t *testing.T) {
	c := newCLI(t)
	c.ok("hello\n", "cp", "-content-type", "text/plain", "-", ":docs/a.txt")
	c.ok("second\n", "cp", "-", ":docs/sub/b.txt")
	c.ok("", "cp", ":docs/a.txt", ":copy.txt")

	require.Equal(t, "hello\nhello\n", c.ok("", "cat", "docs/a.txt", "copy.txt"))

	require.Equal(t, "copy.txt\ndocs/\n", c.ok("", "ls"))
	lines := strings.Split(strings.TrimSpace(c.ok("", "ls", "-l")), "\n")
	require.Len(t, lines, 3)
	require.Equal(t, "TOTAL: 1 object, 6 bytes", lines[2])
	require.True(t, strings.HasSuffix(lines[0], " copy.txt") && strings.Contains(lines[0], "6  "), lines[0])
	require.True(t, strings.HasPrefix(strings.TrimSpace(lines[1]), "PRE") && strings.HasSuffix(lines[1], " docs/"), lines[1])

	require.Equal(t, "docs/a.txt\ndocs/sub/b.txt\n", c.ok("", "ls", "-r", "docs/"))
}

func TestStatPrintsAttributesAsJSON(t *testing.T) {
	c := newCLI(t)
	c.ok("{}", "cp", "-content-type", "application/json", "-", ":x.json")
	var got statJSON
	require.NoError(t, json.Unmarshal([]byte(c.ok("", "stat", "x.json")), &got))
	require.Equal(t, "x.json", got.Key)
	require.Equal(t, int64(2), got.Size)
	require.Equal(t, "application/json", got.ContentType)
	require.NotEmpty(t, got.ETag)
	require.False(t, got.ModTime.IsZero())
}

func TestDownloadToAFileAndADirectory(t *testing.T) {
	c := newCLI(t)
	c.ok("payload", "cp", "-", ":dir/report.csv")
	dst := t.TempDir()

	c.ok("", "cp", ":dir/report.csv", filepath.Join(dst, "named.csv"))
	data, err := os.ReadFile(filepath.Join(dst, "named.csv"))
	require.NoError(t, err)
	require.Equal(t, "payload", string(data))

	c.ok("", "cp", ":dir/report.csv", dst)
	data, err = os.ReadFile(filepath.Join(dst, "report.csv"))
	require.NoError(t, err)
	require.Equal(t, "payload", string(data))

	// A failed download leaves no file, partial or temporary, behind.
	code, _, _ := c.run("", "cp", ":absent", filepath.Join(dst, "absent"))
	require.Equal(t, 3, code)
	entries, err := os.ReadDir(dst)
	require.NoError(t, err)
	require.Len(t, entries, 2, "only named.csv and report.csv")
}

func TestUploadFromALocalFile(t *testing.T) {
	c := newCLI(t)
	src := filepath.Join(t.TempDir(), "in.bin")
	require.NoError(t, os.WriteFile(src, bytes.Repeat([]byte{7}, 100_000), 0o600))
	c.ok("", "cp", src, ":in.bin")
	out := c.ok("", "cat", "in.bin")
	require.Equal(t, 100_000, len(out))
}

func TestRemove(t *testing.T) {
	c := newCLI(t)
	for _, k := range []string{":p/1", ":p/2", ":p/q/3", ":keep"} {
		c.ok("x", "cp", "-", k)
	}
	c.ok("", "rm", "keep")
	require.Equal(t, "deleted 3 objects under p/\n", c.ok("", "rm", "-r", "p/"))
	require.Empty(t, c.ok("", "ls", "-r"))
	c.ok("", "rm", "never-existed") // deleting an absent key is not an error
}

func TestExitStatus(t *testing.T) {
	c := newCLI(t)
	c.ok("x", "cp", "-", ":there")
	tests := []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"no command", nil, 2, "no command given"},
		{"unknown command", []string{"frob", "a", "b"}, 2, `unknown command "frob"`},
		{"bad flag", []string{"ls", "-z"}, 2, "ls: unknown shorthand flag: 'z' in -z (see 'anyblob ls --help')"},
		{"bad long flag", []string{"cp", "--nope", "a", ":b"}, 2, "cp: unknown flag: --nope"},
		{"help of no command", []string{"help", "frob"}, 2, `no command "frob"`},
		{"misspelt command", []string{"lss"}, 2, `unknown command "lss"; did you mean "ls"?`},
		{"cp with two local paths", []string{"cp", "a", "b"}, 2, "write objects as :key"},
		{"cp with one argument", []string{"cp", ":a"}, 2, "got 1 arguments"},
		{"cat without a key", []string{"cat"}, 2, "cat needs at least one key"},
		{"rm -r of everything", []string{"rm", "-r", ""}, 2, "refusing an empty prefix"},
		{"missing object", []string{"cat", "nope"}, 3, "not found"},
		{"create-only on an existing key", []string{"cp", "-if-not-exist", "-", ":there"}, 4, "precondition"},
		{"invalid key", []string{"stat", "bad\x00key"}, 1, "invalid argument"},
		{"presign on a directory bucket", []string{"presign", "there"}, 1, "not implemented"},
		{"unknown scheme", []string{"-bucket", "nope://x", "ls"}, 1, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := c.run("y", tt.args...)
			require.Equal(t, tt.code, code, errOut)
			require.Contains(t, strings.ToLower(errOut), strings.ToLower(tt.message))
		})
	}
	require.Equal(t, "x", c.ok("", "cat", "there"), "the failed create-only write changed nothing")
}
