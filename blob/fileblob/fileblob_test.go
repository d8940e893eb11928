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
	return openLayout(t, dir, "")
}

func openLayout(t *testing.T, dir string, layout fileblob.Layout) blob.Bucket {
	t.Helper()
	b, err := fileblob.Open(dir, &fileblob.Options{Layout: layout})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return b
}

var layouts = []fileblob.Layout{fileblob.LayoutNatural, fileblob.LayoutEscaped}

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
	for _, layout := range layouts {
		t.Run(string(layout), func(t *testing.T) { everyKey(t, layout) })
	}
}

func everyKey(t *testing.T, layout fileblob.Layout) {
	ctx := context.Background()
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	require.NoError(t, os.Mkdir(root, 0o755))
	b := openLayout(t, root, layout)

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

	for _, k := range trickyKeys {
		require.NoError(t, b.Delete(ctx, k), "key %q", k)
	}
	left := files(t, root)
	require.Len(t, left, 1, "only the lock is left after every key is deleted: %q", left)
}

// TestNaturalLayout checks that keys are plain paths other programs read,
// and that the keys a file system cannot hold as paths go to the hidden
// folder and come back when their path is free.
func TestNaturalLayout(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	b := open(t, root)
	write := func(k, v string) { require.NoError(t, blob.WriteAll(ctx, b, k, []byte(v), nil), k) }
	read := func(k string) string {
		got, err := blob.ReadAll(ctx, b, k)
		require.NoError(t, err, k)
		return string(got)
	}
	write("reports/2026/q3.csv", "x")
	write("reports", "y") // a folder stands in its way
	write(".hidden", "h")
	write("100% sure", "p")
	write("a//b", "e")
	require.ElementsMatch(t, []string{
		"reports/2026/q3.csv", ".hidden", "100% sure",
		".anyblob/lock", ".anyblob/k/reports", ".anyblob/k/a%/%%/b",
		".anyblob/m/reports", ".anyblob/m/reports%/2026%/q3.csv", ".anyblob/m/%2Ehidden",
		".anyblob/m/100%25 sure", ".anyblob/m/a%/%%/b",
	}, files(t, root))
	raw, err := os.ReadFile(filepath.Join(root, "reports", "2026", "q3.csv"))
	require.NoError(t, err)
	require.Equal(t, "x", string(raw), "other programs read the file under the key's own path")

	page, err := b.List(ctx, &blob.ListOptions{Delimiter: "/"})
	require.NoError(t, err)
	var keys []string
	for _, o := range page.Objects {
		keys = append(keys, o.Key)
	}
	require.Equal(t, []string{".hidden", "100% sure", "reports"}, keys)
	require.Equal(t, []string{"a/", "reports/"}, page.Prefixes)

	// Once its path is free, the key moves there on its next write.
	require.NoError(t, b.Delete(ctx, "reports/2026/q3.csv"))
	_, err = os.Stat(filepath.Join(root, "reports"))
	require.ErrorIs(t, err, fs.ErrNotExist, "emptied folders go")
	require.Equal(t, "y", read("reports"))
	write("reports", "z")
	require.Equal(t, "z", read("reports"))
	raw, err = os.ReadFile(filepath.Join(root, "reports"))
	require.NoError(t, err)
	require.Equal(t, "z", string(raw))
	require.NotContains(t, files(t, root), ".anyblob/k/reports", "the old copy is gone")

	// A file stands where a folder must be: the key goes to the hidden folder.
	write("reports/late.txt", "l")
	require.Equal(t, "l", read("reports/late.txt"))
	require.Contains(t, files(t, root), ".anyblob/k/reports%/late.txt")
	page, err = b.List(ctx, &blob.ListOptions{Prefix: "reports"})
	require.NoError(t, err)
	require.Len(t, page.Objects, 2)
}

// TestExistingTree opens a tree written by other programs: every regular
// file is an object under its own path, with attributes from its stat,
// and special files are not objects.
func TestExistingTree(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	put := func(p, v string) {
		full := filepath.Join(root, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(v), 0o644))
	}
	put("dropped.txt", "by hand")
	put("sub/deep/page.html", "<p>")
	put("odd%zz name", "?")
	put(".config", "c")
	require.NoError(t, os.Symlink("dropped.txt", filepath.Join(root, "link")))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "empty"), 0o755))
	b := open(t, root)

	var keys []string
	for o, err := range blob.Objects(ctx, b, nil) {
		require.NoError(t, err)
		keys = append(keys, o.Key)
	}
	require.Equal(t, []string{".config", "dropped.txt", "odd%zz name", "sub/deep/page.html"}, keys)
	a, err := b.Attributes(ctx, "dropped.txt")
	require.NoError(t, err)
	require.Equal(t, int64(7), a.Size)
	require.Equal(t, "text/plain; charset=utf-8", a.ContentType, "from the extension")
	require.NotEmpty(t, a.ETag)
	a, err = b.Attributes(ctx, "sub/deep/page.html")
	require.NoError(t, err)
	require.Equal(t, "text/html; charset=utf-8", a.ContentType)
	got, err := blob.ReadAll(ctx, b, "sub/deep/page.html")
	require.NoError(t, err)
	require.Equal(t, "<p>", string(got))

	// The reads left nothing behind.
	_, err = os.Stat(filepath.Join(root, ".anyblob"))
	require.ErrorIs(t, err, fs.ErrNotExist)

	// An ETag derived from the stat still guards a conditional write.
	err = blob.WriteAll(ctx, b, "dropped.txt", []byte("new"), &blob.WriterOptions{IfMatch: `"0-0"`})
	require.ErrorIs(t, err, blob.ErrPreconditionFailed)
	a, err = b.Attributes(ctx, "dropped.txt")
	require.NoError(t, err)
	require.NoError(t, blob.WriteAll(ctx, b, "dropped.txt", []byte("new"), &blob.WriterOptions{IfMatch: a.ETag}))
}

// TestChangedByAnotherProgram rewrites an object's file behind the
// bucket's back: the recorded metadata no longer describes it, and the
// attributes come from the file as it is now.
func TestChangedByAnotherProgram(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	b := open(t, root)
	require.NoError(t, blob.WriteAll(ctx, b, "notes.txt", []byte("first"), &blob.WriterOptions{ContentType: "text/x-notes"}))
	before, err := b.Attributes(ctx, "notes.txt")
	require.NoError(t, err)
	require.NotNil(t, before.MD5)
	require.Equal(t, "text/x-notes", before.ContentType)

	require.NoError(t, os.WriteFile(filepath.Join(root, "notes.txt"), []byte("edited elsewhere"), 0o644))
	after, err := b.Attributes(ctx, "notes.txt")
	require.NoError(t, err)
	require.Equal(t, int64(len("edited elsewhere")), after.Size)
	require.NotEqual(t, before.ETag, after.ETag)
	require.Nil(t, after.MD5, "no digest is claimed for content this package did not write")
	got, err := blob.ReadAll(ctx, b, "notes.txt")
	require.NoError(t, err)
	require.Equal(t, "edited elsewhere", string(got))
}

// TestEscapedLayout checks the layout of earlier releases: its names, and
// that a directory written in it is opened in it by default.
func TestEscapedLayout(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	b, err := fileblob.Open(root, &fileblob.Options{Layout: fileblob.LayoutEscaped})
	require.NoError(t, err)
	require.NoError(t, blob.WriteAll(ctx, b, "reports/2026/q3.csv", []byte("x"), nil))
	require.NoError(t, blob.WriteAll(ctx, b, "reports", []byte("y"), nil))
	require.NoError(t, b.Close())
	require.ElementsMatch(t, []string{
		"%!lock", "reports", "%!mreports", "reports%/2026%/q3.csv", "reports%/2026%/%!mq3.csv",
	}, files(t, root))

	b, err = blob.OpenBucket(ctx, "file://"+filepath.ToSlash(root))
	require.NoError(t, err)
	defer b.Close()
	got, err := blob.ReadAll(ctx, b, "reports/2026/q3.csv")
	require.NoError(t, err, "detected as the escaped layout")
	require.Equal(t, "x", string(got))
	page, err := b.List(ctx, nil)
	require.NoError(t, err)
	require.Len(t, page.Objects, 2)

	// Asked for the natural layout, the same directory shows plain files.
	n, err := blob.OpenBucket(ctx, "file://"+filepath.ToSlash(root)+"?layout=natural")
	require.NoError(t, err)
	defer n.Close()
	_, err = blob.ReadAll(ctx, n, "reports/2026/q3.csv")
	require.ErrorIs(t, err, blob.ErrNotFound)
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

	require.ElementsMatch(t, []string{".anyblob/lock", "d/x", ".anyblob/m/d%/x"}, files(t, root), "no temporary file survives")

	require.NoError(t, b.Delete(context.Background(), "d/x"))
	require.Equal(t, []string{".anyblob/lock"}, files(t, root), "emptied directories are removed")
	_, err = os.Stat(filepath.Join(root, "d"))
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
		{u(dir, "layout=escaped"), nil, ""},
		{u(dir, "layout=flat"), blob.ErrInvalidArgument, `layout="flat" is not natural or escaped`},
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
