//go:build unix

package main

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCtrlCAbortsAnUpload runs the command as a process (this test binary,
// which runs main when ANYBLOB_RUN_MAIN is set), interrupts it with
// SIGINT in the middle of an upload from a pipe, and checks it exits 1
// with no object and no stray file in the bucket's directory.
func TestCtrlCAbortsAnUpload(t *testing.T) {
	dir := t.TempDir()
	bucket := (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
	cmd := exec.Command(os.Args[0], "--bucket", bucket, "cp", "-", ":up.bin")
	cmd.Env = append(os.Environ(), "ANYBLOB_RUN_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	// A pipe holds far less than this: once it is written, the command
	// is reading, its signal handler in place.
	_, err = stdin.Write(make([]byte, 1<<20))
	require.NoError(t, err)
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	go func() { // the rest of the stream, until the command stops reading
		for {
			if _, err := stdin.Write(make([]byte, 1<<16)); err != nil {
				return
			}
		}
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v: %s", err, stderr.String())
	require.Equal(t, 1, exit.ExitCode(), stderr.String())
	require.Contains(t, stderr.String(), "canceled")

	// Nothing but the bucket's hidden folder, and no object in it.
	for _, name := range dirNames(t, dir) {
		require.Equal(t, ".anyblob", name)
	}
	require.Empty(t, (&cli{t: t, bucket: bucket}).ok("", "ls", "-r"))
}

// TestDownloadsTakeTheUmask: a downloaded file has mode 0666 less the
// umask, as any program's file, not the 0600 of a temporary file.
func TestDownloadsTakeTheUmask(t *testing.T) {
	c := newCLI(t)
	c.ok("x", "cp", "-", ":k")
	dir := t.TempDir()
	for umask, mode := range map[int]os.FileMode{0o027: 0o640, 0o002: 0o664, 0o022: 0o644} {
		old := syscall.Umask(umask)
		dst := filepath.Join(dir, "k"+mode.String())
		c.ok("", "cp", ":k", dst)
		syscall.Umask(old)
		st, err := os.Stat(dst)
		require.NoError(t, err)
		require.Equal(t, mode, st.Mode().Perm(), "umask %o", umask)
	}
}
