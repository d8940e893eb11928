package fileblob_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/fileblob"
)

func open(t *testing.T, dir string) blob.Bucket {
	t.Helper()
	b, err := fileblob.Open(dir, nil)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return b
}

// files lists every file under dir, relative and slash-separated.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	}))
	return out
}

// trickyKeys are keys a naive layout would lose, merge or write outside the
// root.
var trickyKeys = []string{
	"a", "a/b", "a//b", "a/", "/x", "//", "../x", "../../etc/passwd", "./y", ".", "..", "...",
	"100%", "%41", "%", "%!lock", "%!mfoo", "%!tmp-1", "sp ace", "é", "日本/語", "+", "c++", "a+/b",
	"x%", "back\\slash", "colon:star*?", "\x01ctl", "tail.", ".hidden",
	strings.Repeat("k", 900), strings.Repeat("%", 300) + "/" + strings.Repeat("é", 200),
	strings.Repeat("ab/", 300),
}

func TestEveryKeyRoundTripsAndStaysInside(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	require.NoError(t, os.Mkdir(root, 0o755))
	b := open(t, root)

	for i, k := range trickyKeys {
		require.NoError(t, blob.ValidateKey(k), "test key %q must be valid", k)
		require.NoError(t, blob.WriteAll(ctx, b, k, fmt.Appendf(nil, "value %d", i), nil), "key %q", k)
	}
	for i, k := range trickyKeys {
		got, err := blob.ReadAll(ctx, b, k)
		require.NoError(t, err, "key %q", k)
		require.Equal(t, fmt.Sprintf("value %d", i), string(got), "key %q", k)
	}

	var listed []string
	for obj, err := range blob.Objects(ctx, b, nil) {
		require.NoError(t, err)
		listed = append(listed, obj.Key)
	}
	want := slices.Clone(trickyKeys)
	slices.Sort(want)
	require.Equal(t, want, listed, "every key listed exactly once, exactly as given, in byte order")

	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, entries, 1, "nothing written beside the root")
	for _, f := range files(t, root) {
		for _, part := range strings.Split(f, "/") {
			require.LessOrEqual(t, len(part), 255, "name too long: %q", f)
		}
	}
}

func TestLayoutIsReadable(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	b := open(t, root)
	require.NoError(t, blob.WriteAll(ctx, b, "reports/2026/q3.csv", []byte("x"), nil))
	require.NoError(t, blob.WriteAll(ctx, b, "reports", []byte("y"), nil))
	require.ElementsMatch(t, []string{
		"%!lock", "reports", "%!mreports", "reports%/2026%/q3.csv", "reports%/2026%/%!mq3.csv",
	}, files(t, root))
}

func TestHandPlacedFiles(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "dropped.txt"), []byte("by hand"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "plain-dir"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "plain-dir", "f"), []byte("?"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "bad%zz"), []byte("?"), 0o644))
	b := open(t, root)

	page, err := b.List(ctx, nil)
	require.NoError(t, err)
	require.Len(t, page.Objects, 1, "only names the layout could produce are objects")
	require.Equal(t, "dropped.txt", page.Objects[0].Key)
	a, err := b.Attributes(ctx, "dropped.txt")
	require.NoError(t, err)
	require.Equal(t, int64(7), a.Size)
	require.Equal(t, "application/octet-stream", a.ContentType)
	require.NotEmpty(t, a.ETag)
}

func TestNothingLeftBehindByFailedWrites(t *testing.T) {
	root := t.TempDir()
	b := open(t, root)

	w, err := b.NewWriter(context.Background(), "d/aborted", nil)
	require.NoError(t, err)
	_, err = w.Write([]byte("partial"))
	require.NoError(t, err)
	require.NoError(t, w.Abort(nil))

	ctx, cancel := context.WithCancel(context.Background())
	w, err = b.NewWriter(ctx, "d/canceled", nil)
	require.NoError(t, err)
	_, err = w.Write([]byte("partial"))
	require.NoError(t, err)
	cancel()
	require.ErrorIs(t, w.Close(), blob.ErrCanceled)

	require.NoError(t, blob.WriteAll(context.Background(), b, "d/x", []byte("1"), nil))
	err = blob.WriteAll(context.Background(), b, "d/x", []byte("2"), &blob.WriterOptions{IfNotExist: true})
	require.ErrorIs(t, err, blob.ErrPreconditionFailed)

	require.ElementsMatch(t, []string{"%!lock", "d%/x", "d%/%!mx"}, files(t, root), "no temporary file survives")

	require.NoError(t, b.Delete(context.Background(), "d/x"))
	require.Equal(t, []string{"%!lock"}, files(t, root), "emptied directories are removed")
	_, err = os.Stat(filepath.Join(root, "d%"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestNothingVisibleBeforeClose(t *testing.T) {
	ctx := context.Background()
	b := open(t, t.TempDir())
	w, err := b.NewWriter(ctx, "k", nil)
	require.NoError(t, err)
	_, err = w.Write([]byte("data"))
	require.NoError(t, err)
	ok, err := blob.Exists(ctx, b, "k")
	require.NoError(t, err)
	require.False(t, ok)
	page, err := b.List(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, page.Objects)
	require.NoError(t, w.Close())
	ok, err = blob.Exists(ctx, b, "k")
	require.NoError(t, err)
	require.True(t, ok)
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	u := func(p, q string) string {
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p), RawQuery: q}).String()
	}
	tests := []struct {
		url  string
		kind error
		msg  string
	}{
		{u(dir, ""), nil, ""},
		{"file://localhost" + filepath.ToSlash(dir), nil, ""},
		{u(filepath.Join(dir, "new", "deep"), "create_dir=true"), nil, ""},
		{u(filepath.Join(dir, "missing"), ""), blob.ErrNotFound, "create_dir=true"},
		{u(file, ""), blob.ErrInvalidArgument, "not a directory"},
		{u(dir, "create_dir=maybe"), blob.ErrInvalidArgument, "not a boolean"},
		{u(dir, "colour=red"), blob.ErrInvalidArgument, `unknown file URL parameter "colour"`},
		{"file://otherhost/x", blob.ErrInvalidArgument, "host must be empty or localhost"},
		// A directory that cannot be made (a file stands in its path) is
		// not "not found".
		{u(filepath.Join(file, "sub"), "create_dir=true"), blob.ErrInvalidArgument, "cannot create the directory"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			b, err := blob.OpenBucket(ctx, tt.url)
			if tt.kind == nil {
				require.NoError(t, err)
				require.NoError(t, b.Close())
				return
			}
			require.Equal(t, tt.kind, blob.KindOf(err))
			require.ErrorContains(t, err, tt.msg)
			require.Equal(t, 1, strings.Count(err.Error(), "blob: "), "no nested error: %v", err)
			require.Contains(t, err.Error(), "blob: open file://")
		})
	}
}

// TestConditionalWritesAcrossProcesses starts several copies of this test
// binary that race to write one key in one directory, create-only or
// pinned to one ETag; exactly one wins each race.
func TestConditionalWritesAcrossProcesses(t *testing.T) {
	if dir := os.Getenv("FILEBLOB_RACE_DIR"); dir != "" {
		// Hold each commit open long enough that, without the lock, every
		// child would pass its check before any renamed.
		fileblob.SetCommitHook(func() { time.Sleep(300 * time.Millisecond) })
		raceChild(dir, os.Getenv("FILEBLOB_RACE_ID"), os.Getenv("FILEBLOB_RACE_ETAG"))
		return
	}
	for _, mode := range []string{"IfNotExist", "IfMatch"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			etag := ""
			if mode == "IfMatch" {
				b := open(t, dir)
				require.NoError(t, blob.WriteAll(context.Background(), b, "contested", []byte("base"), nil))
				a, err := b.Attributes(context.Background(), "contested")
				require.NoError(t, err)
				etag = a.ETag
			}
			const procs = 6
			cmds := make([]*exec.Cmd, procs)
			outs := make([]strings.Builder, procs)
			for i := range procs {
				cmd := exec.Command(os.Args[0], "-test.run=^TestConditionalWritesAcrossProcesses$", "-test.count=1")
				cmd.Env = append(os.Environ(), "FILEBLOB_RACE_DIR="+dir, fmt.Sprintf("FILEBLOB_RACE_ID=%d", i), "FILEBLOB_RACE_ETAG="+etag)
				cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
				require.NoError(t, cmd.Start())
				cmds[i] = cmd
			}
			// Let them all go at once, so their commits overlap.
			require.NoError(t, os.WriteFile(filepath.Join(os.TempDir(), "fileblob-go-"+filepath.Base(dir)), nil, 0o644))
			t.Cleanup(func() { os.Remove(filepath.Join(os.TempDir(), "fileblob-go-"+filepath.Base(dir))) })
			wins := 0
			for i, cmd := range cmds {
				require.NoError(t, cmd.Wait(), outs[i].String())
				out := outs[i].String()
				switch {
				case strings.Contains(out, "RESULT won"):
					wins++
				case strings.Contains(out, "RESULT lost"):
				default:
					t.Fatalf("child %d said neither won nor lost: %s", i, out)
				}
			}
			require.Equal(t, 1, wins, "exactly one process may write the key")
		})
	}
}

// raceChild writes one key, create-only or (with etag) pinned to etag,
// racing the other children, and prints whether it won.
func raceChild(dir, id, etag string) {
	b, err := fileblob.Open(dir, nil)
	if err != nil {
		fmt.Println("RESULT error", err)
		return
	}
	defer b.Close()
	w, err := b.NewWriter(context.Background(), "contested", &blob.WriterOptions{IfNotExist: etag == "", IfMatch: etag})
	if err != nil {
		fmt.Println("RESULT error", err)
		return
	}
	fmt.Fprint(w, id)
	start := filepath.Join(os.TempDir(), "fileblob-go-"+filepath.Base(dir))
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, err := os.Stat(start); err == nil {
			break
		}
	}
	err = w.Close()
	switch {
	case err == nil:
		fmt.Println("RESULT won")
	case strings.Contains(err.Error(), "precondition failed"):
		fmt.Println("RESULT lost")
	default:
		fmt.Println("RESULT error", err)
	}
}
