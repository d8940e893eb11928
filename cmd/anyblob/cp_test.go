package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest"
)

// spy strikes and counts the calls of faulty:// buckets: faulty://NAME is
// the process-wide memory bucket mem://NAME seen through spy.
var spy = blobtest.NewFaults(1)

func init() {
	blob.Register(blob.Provider{Name: "faulty", Scheme: "faulty", Open: func(ctx context.Context, u *url.URL) (blob.Bucket, error) {
		b, err := blob.OpenBucket(ctx, "mem://"+u.Host)
		if err != nil {
			return nil, err
		}
		return spy.Bucket(b), nil
	}})
}

// memName is a memory bucket name of the test's own.
func memName() string { return fmt.Sprintf("cli%x", rand.Uint64()) }

// memBucket opens the process-wide memory bucket name, as the command does.
func memBucket(t *testing.T, name string) blob.Bucket {
	b, err := blob.OpenBucket(context.Background(), "mem://"+name)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return b
}

func readFile(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

// dirNames lists a directory's entries, hidden ones included.
func dirNames(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestCopyAnyToAny copies one object along a chain that crosses every
// kind of end: a local file, the default bucket (:KEY), two memory
// buckets, a directory by file URL, standard output; each hop keeps the
// bytes, and the bucket-to-bucket hops the content headers and metadata.
func TestCopyAnyToAny(t *testing.T) {
	c := newCLI(t) // the default bucket: a directory
	a, b := memName(), memName()
	src := filepath.Join(t.TempDir(), "in.csv")
	payload := strings.Repeat("x,y\n", 50_000)
	require.NoError(t, os.WriteFile(src, []byte(payload), 0o666))
	out := t.TempDir()

	c.ok("", "cp", "--content-type", "text/csv", src, "mem://"+a+"/in/data.csv")
	// Metadata a bucket-to-bucket copy must carry, set as a library user would.
	ma := memBucket(t, a)
	require.NoError(t, ma.Copy(context.Background(), "in/data.csv", "in/data.csv", &blob.CopyOptions{Metadata: map[string]string{"owner": "ops"}}))

	c.ok("", "cp", "mem://"+a+"/in/data.csv", "mem://"+b+"/copied.csv") // memory → memory, streamed
	c.ok("", "cp", "mem://"+b+"/copied.csv", ":hop/copied.csv")         // memory → default bucket
	c.ok("", "cp", ":hop/copied.csv", "file://"+filepath.ToSlash(out)+"/f/copied.csv?create_dir=true")
	c.ok("", "cp", "file://"+filepath.ToSlash(out)+"/f/copied.csv", filepath.Join(out, "local.csv"))
	require.Equal(t, payload, readFile(t, filepath.Join(out, "local.csv")))
	require.Equal(t, payload, c.ok("", "cp", "mem://"+b+"/copied.csv", "-"))
	require.Equal(t, payload, c.ok("", "cat", "hop/copied.csv"))

	for _, at := range []string{"mem://" + b + "/copied.csv", ":hop/copied.csv"} {
		var got statJSON
		require.NoError(t, jsonDecode(c.ok("", "stat", at), &got))
		require.Equal(t, "text/csv", got.ContentType, at)
		require.Equal(t, map[string]string{"owner": "ops"}, got.Metadata, at)
		require.Equal(t, int64(len(payload)), got.Size)
	}

	// --content-type replaces the source's on a streamed copy too.
	c.ok("", "cp", "--content-type", "text/plain", "mem://"+a+"/in/data.csv", "mem://"+b+"/plain.txt")
	attrs, err := memBucket(t, b).Attributes(context.Background(), "plain.txt")
	require.NoError(t, err)
	require.Equal(t, "text/plain", attrs.ContentType)
	require.Equal(t, map[string]string{"owner": "ops"}, attrs.Metadata)
}

// TestObjectCommandsTakeURLs: ls, cat, stat, rm and presign take bucket
// URLs with keys as they take :KEY and bare keys.
func TestObjectCommandsTakeURLs(t *testing.T) {
	c := newCLI(t)
	m := "mem://" + memName()
	c.ok("a", "cp", "-", m+"/p/a.txt")
	c.ok("b", "cp", "-", m+"/p/q/b.txt")
	c.ok("c", "cp", "-", m+"/top.txt")

	require.Equal(t, "p/\ntop.txt\n", c.ok("", "ls", m))
	require.Len(t, strings.Split(strings.TrimSpace(c.ok("", "ls", "-r", m+"/p/")), "\n"), 2)
	require.Equal(t, "ab", c.ok("", "cat", m+"/p/a.txt", m+"/p/q/b.txt"))
	require.Contains(t, c.ok("", "stat", m+"/top.txt"), `"key": "top.txt"`)

	code, _, errOut := c.run("", "presign", m+"/top.txt")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "not implemented")

	c.ok("", "rm", m+"/top.txt")
	require.Equal(t, "deleted 2 objects under p/\n", c.ok("", "rm", "-r", m+"/p/"))
	require.Empty(t, c.ok("", "ls", "-r", m))
	code, _, errOut = c.run("", "rm", "-r", m)
	require.Equal(t, 2, code, "rm -r of a whole bucket is refused")
	require.Contains(t, errOut, "use rb -f")
	for _, args := range [][]string{{"rm", m}, {"cat", m + "/"}, {"stat", ":"}, {"presign", m}} {
		code, _, errOut = c.run("", args...)
		require.Equal(t, 2, code, "%v: %s", args, errOut)
		require.Contains(t, errOut, "names a bucket, not an object; add the key", args)
	}
}

// TestSameBucketCopyIsServerSide: a copy within one bucket is one Copy
// call, whether the bucket is named by URL or by --bucket; between two
// buckets it is one read and one write, no Copy.
func TestSameBucketCopyIsServerSide(t *testing.T) {
	name := memName()
	u := "faulty://" + name
	cl := &cli{t: t, bucket: u}
	cl.ok("data", "cp", "-", ":a")
	// calls counts the copies, reads and writes of f() on faulty buckets.
	calls := func(f func()) (copies, reads, writes int) {
		c, r, w := spy.Calls(blob.OpCopy), spy.Calls(blob.OpRead), spy.Calls(blob.OpWrite)
		f()
		return spy.Calls(blob.OpCopy) - c, spy.Calls(blob.OpRead) - r, spy.Calls(blob.OpWrite) - w
	}

	copies, reads, writes := calls(func() {
		cl.ok("", "cp", u+"/a", u+"/b")
		cl.ok("", "cp", ":a", u+"/c")
		cl.ok("", "cp", ":a", ":d")
	})
	require.Equal(t, [3]int{3, 0, 0}, [3]int{copies, reads, writes}, "copies, reads, writes")

	copies, reads, writes = calls(func() { cl.ok("", "cp", ":a", "faulty://"+memName()+"/a") })
	require.Equal(t, [3]int{0, 1, 1}, [3]int{copies, reads, writes}, "copies, reads, writes")
	require.Equal(t, "data", cl.ok("", "cat", "d"))
}

// TestFailedCopiesLeaveNothing: a source cut off part-way, or a write
// refused at the end, leaves no object and no file, partial or temporary.
func TestFailedCopiesLeaveNothing(t *testing.T) {
	t.Cleanup(spy.Reset)
	src, dst := "faulty://"+memName(), "mem://"+memName()
	c := newCLI(t)
	big := strings.Repeat("0123456789", 100_000)
	c.ok(big, "cp", "-", src+"/big")
	dir := t.TempDir()

	spy.Add(blobtest.Fault{Op: blob.OpRead, Cut: true, CutAfter: 300_000})
	code, _, errOut := c.run("", "cp", src+"/big", dst+"/big")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "injected fault")
	code, _, _ = c.run("", "cat", dst+"/big")
	require.Equal(t, 3, code, "no object after a cut read")

	code, _, errOut = c.run("", "cp", src+"/big", filepath.Join(dir, "big"))
	require.Equal(t, 1, code, errOut)
	require.Empty(t, dirNames(t, dir), "no file after a cut download")

	spy.Reset()
	spy.Add(blobtest.Fault{Op: blob.OpWrite, Err: blob.ErrThrottled})
	file := filepath.Join(dir, "up.txt")
	require.NoError(t, os.WriteFile(file, []byte(big), 0o666))
	code, _, errOut = c.run("", "cp", file, src+"/up.txt")
	require.Equal(t, 1, code, errOut)
	code, _, errOut = c.run("", "cp", dst+"/never", src+"/never")
	require.Equal(t, 3, code, "a missing source is not found: %s", errOut)
	spy.Reset()
	code, _, _ = c.run("", "cat", src+"/up.txt")
	require.Equal(t, 3, code, "no object after a failed upload")

	// --if-not-exist on a streamed copy: refused, the object unchanged.
	c.ok("old", "cp", "-", dst+"/kept")
	code, _, errOut = c.run("", "cp", "--if-not-exist", src+"/big", dst+"/kept")
	require.Equal(t, 4, code, errOut)
	require.Equal(t, "old", c.ok("", "cat", dst+"/kept"))
}

// cancelingReader returns its data in small reads and cancels the
// command's context before the last one, as a Ctrl-C in the middle of an
// upload does.
type cancelingReader struct {
	data   []byte
	cancel context.CancelFunc
}

func (r *cancelingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if len(r.data) <= 1000 {
		r.cancel()
	}
	n := copy(p[:min(len(p), 1000)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestInterruptedCopiesLeaveNothing: canceling the command (what Ctrl-C
// does) in the middle of an upload, or while a streamed copy commits,
// aborts the write.
func TestInterruptedCopiesLeaveNothing(t *testing.T) {
	t.Cleanup(spy.Reset)
	c := newCLI(t)
	for _, dst := range []string{":up.bin", "mem://" + memName() + "/up.bin"} {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut strings.Builder
		code := run(ctx, []string{"-bucket", c.bucket, "cp", "-", dst}, &cancelingReader{data: make([]byte, 50_000), cancel: cancel}, &out, &errOut)
		require.Equal(t, 1, code, errOut.String())
		require.Contains(t, errOut.String(), "canceled")
		code, _, _ = c.run("", "stat", dst)
		require.Equal(t, 3, code, "nothing at %s", dst)
	}

	src, dst := "mem://"+memName(), "faulty://"+memName()
	c.ok("payload", "cp", "-", src+"/k")
	spy.Add(blobtest.Fault{Op: blob.OpWrite, Latency: time.Minute}) // the commit waits
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var out, errOut strings.Builder
	code := run(ctx, []string{"cp", src + "/k", dst + "/k"}, strings.NewReader(""), &out, &errOut)
	require.Equal(t, 1, code, errOut.String())
	spy.Reset()
	code, _, _ = c.run("", "stat", dst+"/k")
	require.Equal(t, 3, code, "nothing at the destination")
}

// TestFolderDestinations: a destination ending in / (or an existing local
// directory) gets the source's last name; a source ending in / is refused.
func TestFolderDestinations(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "report.csv")
	require.NoError(t, os.WriteFile(file, []byte("r"), 0o666))
	m := "mem://" + memName()

	c.ok("", "cp", file, ":reports/")
	c.ok("", "cp", file, ":")
	c.ok("", "cp", file, m)
	c.ok("", "cp", file, m+"/in/")
	require.Equal(t, "rrrr", c.ok("", "cat", "reports/report.csv", "report.csv", m+"/report.csv", m+"/in/report.csv"))
	code, _, _ := c.run("", "stat", "reports/")
	require.Equal(t, 3, code, "no object named reports/")

	dl := filepath.Join(dir, "dl")
	c.ok("", "cp", ":reports/report.csv", dl+"/")
	require.Equal(t, "r", readFile(t, filepath.Join(dl, "report.csv")), "dl/ made and written into")
	c.ok("", "cp", m+"/in/report.csv", dl)
	require.Equal(t, []string{"report.csv"}, dirNames(t, dl), "an existing directory is a folder too")
	c.ok("", "cp", ":report.csv", filepath.Join(dir, "deep", "er", "named.csv"))
	require.Equal(t, "r", readFile(t, filepath.Join(dir, "deep", "er", "named.csv")), "folders made as needed")

	for _, tt := range []struct{ src, dst, msg string }{
		{":reports/", dl + "/", "is a folder, not one object: add -r to copy what is under it"},
		{m + "/in/", ":x", "is a folder"},
		{m, ":x", "is a folder"},
		{dir, ":x", "is a folder"},
		{"-", ":reports/", "standard input has no name to add to the folder :reports/; name the destination (:reports/NAME)"},
		{"a.txt", "b.txt", `neither "a.txt" nor "b.txt" is an object`},
	} {
		code, _, errOut := c.run("x", "cp", tt.src, tt.dst)
		require.Equal(t, 2, code, "cp %s %s: %s", tt.src, tt.dst, errOut)
		require.Contains(t, errOut, tt.msg)
	}
	require.Equal(t, []string{"report.csv"}, dirNames(t, dl), "cp :reports/ dl/ wrote nothing")
	code, _, errOut := c.run("", "cp", filepath.Join(dir, "absent"), ":x")
	require.Equal(t, 3, code, "a missing local file is not found: %s", errOut)
}

// TestFileURLCopies writes and reads a directory by file URL, with and
// without a bucket above, and checks the files are where the paths say.
func TestFileURLCopies(t *testing.T) {
	c := newCLI(t)
	root := t.TempDir()
	plain := filepath.Join(root, "plain")
	require.NoError(t, os.Mkdir(plain, 0o777))
	u := "file://" + filepath.ToSlash(plain)

	c.ok("one", "cp", "-", u+"/one.txt")
	require.Equal(t, "one", readFile(t, filepath.Join(plain, "one.txt")))
	// plain is now a bucket: a deeper key is under it, its folders made.
	c.ok("two", "cp", "-", u+"/sub/deeper/two.txt")
	require.Equal(t, "two", readFile(t, filepath.Join(plain, "sub", "deeper", "two.txt")))
	require.Equal(t, "two", c.ok("", "cat", u+"/sub/deeper/two.txt"))
	ls := c.ok("", "ls", u+"/")
	require.Equal(t, "one.txt\nsub/\n", ls)
	require.Contains(t, c.ok("", "ls", "-r", u), "sub/deeper/two.txt\n")

	// A directory that does not exist is not found, unless create_dir.
	code, _, errOut := c.run("x", "cp", "-", "file://"+filepath.ToSlash(root)+"/new/x.txt")
	require.Equal(t, 3, code, errOut)
	c.ok("x", "cp", "-", "file://"+filepath.ToSlash(root)+"/new/x.txt?create_dir=true")
	require.Equal(t, "x", readFile(t, filepath.Join(root, "new", "x.txt")))
}

func jsonDecode(s string, v any) error { return json.Unmarshal([]byte(s), v) }
