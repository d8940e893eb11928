//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/providers/aws"
)

// interruptAfterFirstLine runs the command as a process, sends it SIGINT
// once it has printed its first line (one file done, others in flight),
// and returns its exit status and standard error.
func interruptAfterFirstLine(t *testing.T, args ...string) (int, string) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ANYBLOB_RUN_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(stdout)
	first := lines.Scan()
	if first {
		require.NoError(t, cmd.Process.Signal(os.Interrupt))
	}
	for lines.Scan() {
	}
	err = cmd.Wait()
	require.True(t, first, "a first line before the end: %s", stderr.String())
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return 0, stderr.String()
	}
	return exit.ExitCode(), stderr.String()
}

// bigTree writes n files of size bytes, each a different repeated byte.
func bigTree(t *testing.T, n, size int) string {
	dir := t.TempDir()
	for i := range n {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d.bin", i)), bytes.Repeat([]byte{byte('a' + i)}, size), 0o666))
	}
	return dir
}

// requireWholeOrNothing: every object under prefix at u is a whole copy
// of its file in dir.
func requireWholeOrNothing(t *testing.T, c *cli, u, dir string) int {
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(c.ok("", "ls", "-lr", u)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		n++
		st, err := os.Stat(filepath.Join(dir, filepath.Base(f[2])))
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(st.Size()), f[0], "%s is whole", f[2])
	}
	return n
}

// TestCtrlCAbortsARecursiveCopy: SIGINT in the middle of a recursive
// upload (several files in flight) and download leaves whole objects and
// files only: no partial object, no temporary file.
func TestCtrlCAbortsARecursiveCopy(t *testing.T) {
	c := newCLI(t)
	src := bigTree(t, 12, 6<<20)
	code, errOut := interruptAfterFirstLine(t, "--bucket", c.bucket, "cp", "-r", "-j", "3", src, ":up/")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "canceled")
	require.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %s", errOut)
	n := requireWholeOrNothing(t, c, ":up/", src)
	require.Less(t, n, 12, "stopped part-way")
	dir, _ := url.Parse(c.bucket)
	for _, name := range dirNames(t, filepath.Join(dir.Path, "up")) {
		require.True(t, strings.HasSuffix(name, ".bin"), "no stray file: %s", name)
	}

	c.ok("", "cp", "-r", "-q", src, ":all/")
	dl := t.TempDir()
	code, errOut = interruptAfterFirstLine(t, "--bucket", c.bucket, "cp", "-r", "-j", "3", ":all", dl)
	require.Equal(t, 1, code, errOut)
	names := dirNames(t, dl)
	require.Less(t, len(names), 12)
	for _, name := range names {
		require.True(t, strings.HasSuffix(name, ".bin"), "no temporary file: %s", name)
		require.Equal(t, readFile(t, filepath.Join(src, name)), readFile(t, filepath.Join(dl, name)))
	}
}

// TestCtrlCAbortsARecursiveUploadToS3: the same on MinIO, with files of
// several parts: no partial object and no unfinished multipart upload.
func TestCtrlCAbortsARecursiveUploadToS3(t *testing.T) {
	u := clouds(t)["s3"]
	c := &cli{t: t}
	src := bigTree(t, 6, aws.DefaultPartSize+3<<20)
	code, errOut := interruptAfterFirstLine(t, "cp", "-r", "-j", "3", src, at(u, "up/"))
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "canceled")
	require.Less(t, requireWholeOrNothing(t, c, at(u, "up/"), src), 6)

	keys := make([]string, 6)
	for i := range keys {
		keys[i] = fmt.Sprintf("up/f%02d.bin", i)
	}
	requireNoUploads(t, u, keys...)
}
