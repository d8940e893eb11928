//go:build unix

package fileblob_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/fileblob"
)

// TestReadOnlyDirectory writes a few objects, makes the directory
// read-only for everyone, and reads it as a user without write access:
// as nobody (uid 65534) when the test runs as root, which ignores
// permission bits, else as the test's own user. Listing, reading and
// Attributes work, writes and deletes fail with ErrPermissionDenied, and
// the reads leave no file behind. It does so in each layout, and on a
// tree with no file of this package (as another program writes it).
func TestReadOnlyDirectory(t *testing.T) {
	for _, layout := range []string{"natural", "escaped", "plain"} {
		t.Run(layout, func(t *testing.T) { readOnlyDirectory(t, layout) })
	}
}

func readOnlyDirectory(t *testing.T, layout string) {
	ctx := context.Background()
	parent := t.TempDir()
	dir := filepath.Join(parent, "shared")
	opts := &fileblob.Options{CreateDir: true}
	if layout == "escaped" {
		opts.Layout = fileblob.LayoutEscaped
	}
	b, err := fileblob.Open(dir, opts)
	require.NoError(t, err)
	for _, k := range []string{"a.txt", "sub/b.txt", "sub/deep/c.txt"} {
		require.NoError(t, blob.WriteAll(ctx, b, k, []byte("content of "+k), nil))
	}
	require.NoError(t, b.Close())
	if layout == "plain" {
		require.NoError(t, os.RemoveAll(filepath.Join(dir, ".anyblob")))
	}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o555)
		}
		return os.Chmod(p, 0o444)
	}))
	require.NoError(t, os.Chmod(parent, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(parent), 0o755)) // the test's temporary root
	t.Cleanup(func() {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})

	if os.Getuid() != 0 {
		readOnly(t, dir)
		return
	}
	// The test binary lives in a folder only root may enter: nobody runs
	// a copy.
	bin, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	self := filepath.Join(parent, "fileblob.test")
	require.NoError(t, os.WriteFile(self, bin, 0o755))
	cmd := exec.Command(self, "-test.run=^TestReadOnlyHelper$", "-test.v")
	cmd.Dir = parent
	cmd.Env = append(os.Environ(), "FILEBLOB_READONLY_DIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "as nobody:\n%s", out)
	require.Contains(t, string(out), "--- PASS: TestReadOnlyHelper", "the checks ran as nobody:\n%s", out)
}

// TestReadOnlyHelper is TestReadOnlyDirectory's other process, run as a
// user without write access; on its own it has nothing to do.
func TestReadOnlyHelper(t *testing.T) {
	dir := os.Getenv("FILEBLOB_READONLY_DIR")
	if dir == "" {
		t.Skip("run by TestReadOnlyDirectory")
	}
	readOnly(t, dir)
}

func readOnly(t *testing.T, dir string) {
	ctx := context.Background()
	before := tree(t, dir)
	b, err := fileblob.Open(dir, nil)
	require.NoError(t, err)
	defer b.Close()
	page, err := b.List(ctx, nil)
	require.NoError(t, err)
	var keys []string
	for _, o := range page.Objects {
		keys = append(keys, o.Key)
	}
	require.Equal(t, []string{"a.txt", "sub/b.txt", "sub/deep/c.txt"}, keys)
	got, err := blob.ReadAll(ctx, b, "sub/deep/c.txt")
	require.NoError(t, err)
	require.Equal(t, "content of sub/deep/c.txt", string(got))
	a, err := b.Attributes(ctx, "a.txt")
	require.NoError(t, err)
	require.Equal(t, int64(len("content of a.txt")), a.Size)

	err = blob.WriteAll(ctx, b, "new.txt", []byte("x"), nil)
	require.ErrorIs(t, err, blob.ErrPermissionDenied, "%v", err)
	err = b.Delete(ctx, "a.txt")
	require.True(t, errors.Is(err, blob.ErrPermissionDenied), "%v", err)
	require.Equal(t, before, tree(t, dir), "reads and refused writes leave no file behind")
}

// tree lists every path under dir.
func tree(t *testing.T, dir string) string {
	var paths []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, strings.TrimPrefix(p, dir))
		return nil
	}))
	return strings.Join(paths, "\n")
}
