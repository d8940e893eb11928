package aws

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
)

// The tests of writeKey's object-or-folder check on MinIO count the
// requests a recording proxy saw; the check's messages are in
// TestNoWriteOnMinIOHidesAnObject.

// folderSetup is a fresh bucket on MinIO, seen by ours through a
// recording proxy with the default options, and by other, a client of
// its own straight to MinIO (another tool).
type folderSetup struct {
	rec         *wireLog
	ours, other blob.Bucket
	bucket      string
}

func newFolderSetup(t *testing.T, m *emulator.MinIOServer) *folderSetup {
	rec := recordWire(t, m)
	opts := minioOptions(m)
	opts.Endpoint = rec.URL()
	ours, name := newBucket(t, newClient(t, opts))
	other, err := newClient(t, minioOptions(m)).Bucket(name)
	require.NoError(t, err)
	rec.take()
	return &folderSetup{rec: rec, ours: ours, other: other, bucket: name}
}

// wireCount is the requests of a run, by what they are.
type wireCount struct {
	puts, heads int
	folderLists int // ListObjectsV2 of a folder, delimiter "/"
	keyLists    int // ListObjectsV2 under one key
	other       []string
}

func (r *wireLog) count() wireCount {
	var c wireCount
	for _, req := range r.take() {
		q := req.URL.Query()
		switch {
		case req.Method == http.MethodPut && q.Get("partNumber") == "":
			c.puts++
		case req.Method == http.MethodHead:
			c.heads++
		case req.Method == http.MethodGet && q.Get("list-type") == "2" && q.Get("delimiter") == "/":
			c.folderLists++
		case req.Method == http.MethodGet && q.Get("list-type") == "2":
			c.keyLists++
		default:
			c.other = append(c.other, req.Method+" "+req.URL.String())
		}
	}
	return c
}

func TestFolderCheck(t *testing.T) {
	testEnv(t)
	m := emulator.MinIO(t)
	t.Run("OneListingPerFolder", func(t *testing.T) { testFolderOneListing(t, m) })
	t.Run("Clashes", func(t *testing.T) { testFolderClashes(t, m) })
	t.Run("TruncatedListing", func(t *testing.T) { testFolderTruncated(t, m) })
	t.Run("FailedWrite", func(t *testing.T) { testFolderFailedWrite(t, m) })
}

// testFolderOneListing: 50 new keys written into one folder by 8
// goroutines at once cost 50 PutObjects, one shared listing of the
// folder (two if folderTTL ran out), no listing per key, and one HEAD
// of the parent folder, shared by the writers that asked at once. A
// fresh client that does not know the server yet asks for its profile
// once too, however many writers start together.
func testFolderOneListing(t *testing.T, m *emulator.MinIOServer) {
	ctx := context.Background()
	s := newFolderSetup(t, m)
	const writers, n = 8, 50
	write := func(b blob.Bucket, folder string) {
		keys := make(chan string)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range writers {
			wg.Go(func() {
				for k := range keys {
					errs <- blob.WriteAll(ctx, b, k, []byte(k), nil)
				}
			})
		}
		for i := range n {
			keys <- fmt.Sprintf("%s/k-%02d", folder, i)
		}
		close(keys)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	write(s.ours, "w")
	c := s.rec.count()
	require.Equal(t, n, c.puts)
	require.LessOrEqual(t, c.folderLists, 2, "one listing of w/ per folderTTL, shared")
	require.Zero(t, c.keyLists, "no listing per key")
	require.Equal(t, 1, c.heads, "one HEAD of w, shared")
	require.Empty(t, c.other)

	opts := minioOptions(m)
	opts.Endpoint = s.rec.URL() // 127.0.0.1 names no server: the profile is asked for
	fresh, err := newClient(t, opts).Bucket(s.bucket)
	require.NoError(t, err)
	write(fresh, "v")
	c = s.rec.count()
	require.Equal(t, n, c.puts)
	require.Equal(t, 2, c.heads, "one HEAD of the bucket for the profile, one of v, each shared")
	require.Empty(t, c.other)
}

// testFolderClashes: both directions of an object that would also be a
// folder are refused, whether another client wrote the clashing object
// or this driver did a moment earlier (its caches learn every write
// that commits: PutObject, CompleteMultipartUpload, CopyObject and a
// multipart copy), and a folder marker beside its object is no clash.
func testFolderClashes(t *testing.T, m *emulator.MinIOServer) {
	ctx := context.Background()
	s := newFolderSetup(t, m)
	write := func(b blob.Bucket, key string) error { return blob.WriteAll(ctx, b, key, []byte(key), nil) }
	refused := func(key, why string) {
		t.Helper()
		s.rec.take()
		err := write(s.ours, key)
		require.ErrorIs(t, err, blob.ErrInvalidArgument, key)
		require.ErrorContains(t, err, why, key)
		require.ErrorContains(t, err, "refused before any data was sent", key)
		require.Zero(t, s.rec.count().puts, "nothing sent for %s", key)
		requireAbsent(t, s.ours, key)
	}

	// Another client's objects.
	require.NoError(t, write(s.other, "d/x/y"))
	refused("d/x", `objects exist under "d/x/"`)
	require.NoError(t, write(s.other, "d/o"))
	refused("d/o/p", `while the object "d/o" exists`)

	// This driver's own, written after it listed the folder: the cached
	// listing of e/ learns e/x/ when e/x/y commits.
	require.NoError(t, write(s.ours, "e/warm"))
	require.NoError(t, write(s.ours, "e/x/y"))
	refused("e/x", `objects exist under "e/x/"`)
	big := bytes.Repeat([]byte("m"), MinPartSize+1)
	require.NoError(t, blob.WriteAll(ctx, s.ours, "e/m/big", big, &blob.WriterOptions{PartSize: MinPartSize}))
	refused("e/m", `objects exist under "e/m/"`)
	require.NoError(t, s.ours.Copy(ctx, "e/c/d", "e/warm", nil))
	refused("e/c", `objects exist under "e/c/"`)
	require.NoError(t, s.ours.Copy(ctx, "e/c2/d", "e/warm", &blob.CopyOptions{IfNotExist: true})) // multipart
	refused("e/c2", `objects exist under "e/c2/"`)
	s.rec.take()
	require.NoError(t, write(s.ours, "e/last"))
	require.Equal(t, 1, s.rec.count().puts)

	// A name this driver knew as a folder becomes its object: it forgets
	// the folder once the write commits.
	require.NoError(t, write(s.ours, "f/z/1"))
	require.NoError(t, s.ours.Delete(ctx, "f/z/1"))
	require.NoError(t, write(s.ours, "f/z"))
	refused("f/z/2", `while the object "f/z" exists`)

	// A folder marker sits beside its object: the listing shows h/m/,
	// the listing under it only the marker.
	require.NoError(t, write(s.ours, "h/warm"))
	require.NoError(t, write(s.ours, "h/m/"))
	require.NoError(t, write(s.ours, "h/m"))
}

// testFolderTruncated: a folder with more entries than a page is not
// paged through; its keys are checked one by one, which still refuses a
// clash, and the folder is listed once for all of them.
func testFolderTruncated(t *testing.T, m *emulator.MinIOServer) {
	ctx := context.Background()
	old := folderPage
	folderPage = 2
	t.Cleanup(func() { folderPage = old })
	s := newFolderSetup(t, m)
	for _, k := range []string{"t/a/1", "t/b/1", "t/c/1"} {
		require.NoError(t, blob.WriteAll(ctx, s.other, k, nil, nil))
	}
	err := blob.WriteAll(ctx, s.ours, "t/b", nil, nil)
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.ErrorContains(t, err, `objects exist under "t/b/"`)
	require.NoError(t, blob.WriteAll(ctx, s.ours, "t/n1", nil, nil))
	require.NoError(t, blob.WriteAll(ctx, s.ours, "t/n2", nil, nil))
	err = blob.WriteAll(ctx, s.ours, "t/c", nil, nil)
	require.ErrorContains(t, err, `objects exist under "t/c/"`)
	c := s.rec.count()
	require.Equal(t, 1, c.folderLists, "t/ listed once, found truncated")
	require.Equal(t, 4, c.keyLists, "each key checked on its own")
	require.Equal(t, 2, c.puts)
}

// testFolderFailedWrite: a write that fails, single or multipart, leaves
// the caches as they were: the next write of its parent folder's name is
// not refused and needs no listing.
func testFolderFailedWrite(t *testing.T, m *emulator.MinIOServer) {
	ctx := context.Background()
	s := newFolderSetup(t, m)
	require.NoError(t, blob.WriteAll(ctx, s.ours, "f/warm", nil, nil))

	err := blob.WriteAll(ctx, s.ours, "f/x/y", []byte("y"), &blob.WriterOptions{IfMatch: `"0123456789abcdef0123456789abcdef"`})
	require.ErrorIs(t, err, blob.ErrPreconditionFailed)
	wctx, cancel := context.WithCancel(ctx)
	w, err := s.ours.NewWriter(wctx, "f/m/big", &blob.WriterOptions{PartSize: MinPartSize})
	require.NoError(t, err)
	_, err = w.Write(bytes.Repeat([]byte("m"), MinPartSize+1))
	require.NoError(t, err)
	cancel()
	require.Error(t, w.Close())
	requireAbsent(t, s.ours, "f/m/big")

	s.rec.take()
	require.NoError(t, blob.WriteAll(ctx, s.ours, "f/x", []byte("x"), nil))
	require.NoError(t, blob.WriteAll(ctx, s.ours, "f/m", []byte("m"), nil))
	c := s.rec.count()
	require.Equal(t, 2, c.puts)
	require.Zero(t, c.folderLists+c.keyLists, "f/ listed before, and the failed writes added nothing")
}
