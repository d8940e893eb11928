package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/memblob"
)

// newMem returns an empty memory bucket closed at the end of the test.
func newMem(t *testing.T) blob.Bucket {
	t.Helper()
	b := memblob.New(t.Name())
	t.Cleanup(func() { b.Close() })
	return b
}

// put writes key with body, failing the test on error.
func put(t *testing.T, b blob.Bucket, key, body string) {
	t.Helper()
	require.NoError(t, blob.WriteAll(context.Background(), b, key, []byte(body), nil))
}

// keys lists every key under prefix, without a delimiter.
func keys(t *testing.T, b blob.Bucket, prefix string) []string {
	t.Helper()
	var out []string
	for obj, err := range blob.Objects(context.Background(), b, &blob.ListOptions{Prefix: prefix}) {
		require.NoError(t, err)
		out = append(out, obj.Key)
	}
	return out
}

func TestReadAllWriteAll(t *testing.T) {
	ctx := context.Background()
	b := newMem(t)
	require.NoError(t, blob.WriteAll(ctx, b, "k", []byte("value"), &blob.WriterOptions{ContentType: "text/plain"}))
	got, err := blob.ReadAll(ctx, b, "k")
	require.NoError(t, err)
	require.Equal(t, "value", string(got))

	_, err = blob.ReadAll(ctx, b, "absent")
	require.ErrorIs(t, err, blob.ErrNotFound)
	require.NoError(t, blob.WriteAll(ctx, b, "empty", nil, nil))
	got, err = blob.ReadAll(ctx, b, "empty")
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestUploadOfAFailingSourceLeavesNothing(t *testing.T) {
	ctx := context.Background()
	b := newMem(t)
	boom := errors.New("disk on fire")
	src := io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(boom))

	err := blob.Upload(ctx, b, "k", src, nil)
	require.ErrorIs(t, err, blob.ErrInternal)
	require.ErrorIs(t, err, boom, "the caller's reader error stays reachable")
	require.Contains(t, err.Error(), "reading the source")
	ok, err := blob.Exists(ctx, b, "k")
	require.NoError(t, err)
	require.False(t, ok, "a failed upload must leave nothing visible")

	err = blob.Upload(ctx, b, "k", iotest.ErrReader(context.DeadlineExceeded), nil)
	require.ErrorIs(t, err, blob.ErrCanceled, "a context error from the source is ErrCanceled")
}

// sizing records the size of every Write its writers get; fail makes
// them fail.
type sizing struct {
	blob.Driver
	sizes *[]int
	fail  error
}

func (s sizing) NewWriter(ctx context.Context, key string, o *blob.WriterOptions) (blob.Writer, error) {
	w, err := s.Driver.NewWriter(ctx, key, o)
	if err != nil {
		return nil, err
	}
	return sizingWriter{w, s}, nil
}

type sizingWriter struct {
	blob.Writer
	s sizing
}

func (w sizingWriter) Write(p []byte) (int, error) {
	*w.s.sizes = append(*w.s.sizes, len(p))
	if w.s.fail != nil {
		return 0, w.s.fail
	}
	return w.Writer.Write(p)
}

// failingWriterTo writes part of itself, then fails, as a source that is
// an io.WriterTo.
type failingWriterTo struct{ err error }

func (f failingWriterTo) Read([]byte) (int, error) { return 0, f.err }
func (f failingWriterTo) WriteTo(w io.Writer) (int64, error) {
	n, _ := w.Write([]byte("partial"))
	return int64(n), f.err
}

// TestUploadHandsAWriterToSourceOver proves that Upload gives a driver
// without io.ReaderFrom a source's own WriteTo (a bytes.Reader: one Write
// of all of it, no copy through a buffer), and still tells the source's
// failures from the bucket's.
func TestUploadHandsAWriterToSourceOver(t *testing.T) {
	ctx := context.Background()
	var sizes []int
	b := blob.Wrap(newMem(t), func(d blob.Driver) blob.Driver { return sizing{Driver: d, sizes: &sizes} })
	data := bytes.Repeat([]byte("writer to "), 300_000) // 3 MB: more than a copy buffer
	require.NoError(t, blob.Upload(ctx, b, "k", bytes.NewReader(data), nil))
	require.Equal(t, []int{len(data)}, sizes, "one Write of the whole source")
	got, err := blob.ReadAll(ctx, b, "k")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))

	boom := errors.New("disk on fire")
	err = blob.Upload(ctx, b, "broken", failingWriterTo{boom}, nil)
	require.ErrorIs(t, err, boom)
	require.Contains(t, err.Error(), "reading the source")
	ok, err := blob.Exists(ctx, b, "broken")
	require.NoError(t, err)
	require.False(t, ok, "a failed upload leaves nothing visible")

	full := errors.New("bucket full")
	failing := blob.Wrap(newMem(t), func(d blob.Driver) blob.Driver { return sizing{Driver: d, sizes: &sizes, fail: full} })
	err = blob.Upload(ctx, failing, "k", bytes.NewReader(data), nil)
	require.ErrorIs(t, err, full)
	require.NotContains(t, err.Error(), "reading the source", "the bucket's failure is not the source's")
}

func TestDownload(t *testing.T) {
	ctx := context.Background()
	b := newMem(t)
	put(t, b, "k", "some bytes")
	var sb strings.Builder
	require.NoError(t, blob.Download(ctx, b, "k", &sb))
	require.Equal(t, "some bytes", sb.String())

	err := blob.Download(ctx, b, "k", failingWriter{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "writing the destination")
	require.ErrorIs(t, err, errSink)

	require.ErrorIs(t, blob.Download(ctx, b, "absent", io.Discard), blob.ErrNotFound)
}

var errSink = errors.New("sink full")

// bufAt is an io.WriterAt over a growing buffer.
type bufAt struct{ b []byte }

func (w *bufAt) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(w.b) {
		w.b = append(w.b, make([]byte, end-len(w.b))...)
	}
	return copy(w.b[off:], p), nil
}

type failingAt struct{}

func (failingAt) WriteAt([]byte, int64) (int, error) { return 0, errSink }

func TestDownloadAt(t *testing.T) {
	ctx := context.Background()
	b := newMem(t)
	put(t, b, "k", "some bytes")
	var w bufAt
	n, err := blob.DownloadAt(ctx, b, "k", &w)
	require.NoError(t, err)
	require.Equal(t, int64(10), n)
	require.Equal(t, "some bytes", string(w.b), "byte i at offset i")

	_, err = blob.DownloadAt(ctx, b, "k", failingAt{})
	require.ErrorContains(t, err, "writing the destination")
	require.ErrorIs(t, err, errSink)

	_, err = blob.DownloadAt(ctx, b, "absent", &w)
	require.ErrorIs(t, err, blob.ErrNotFound)

	// A Reader's WriteAtTo after some bytes were read writes the rest at
	// their object offsets.
	r, err := b.NewRangeReader(ctx, "k", 2, -1, nil)
	require.NoError(t, err)
	head := make([]byte, 3)
	_, err = io.ReadFull(r, head)
	require.NoError(t, err)
	var rest bufAt
	n, err = r.(blob.WriterAtTo).WriteAtTo(&rest)
	require.NoError(t, err)
	require.Equal(t, int64(5), n)
	require.Equal(t, "bytes", string(rest.b[5:]), "from object offset 5 on")
	require.NoError(t, r.Close())
}

// backDriver's readers write with WriteAtTo, as a parallel read does, and
// read back what they wrote when the destination lets them (a check that
// hashes in order does).
type backDriver struct {
	blob.Driver
	readBack *bool
}

func (d backDriver) NewRangeReader(ctx context.Context, key string, off, n int64, o *blob.ReaderOptions) (blob.Reader, error) {
	r, err := d.Driver.NewRangeReader(ctx, key, off, n, o)
	if err != nil {
		return nil, err
	}
	return backReader{r, d.readBack}, nil
}

type backReader struct {
	blob.Reader
	readBack *bool
}

func (r backReader) WriteAtTo(w io.WriterAt) (int64, error) {
	data, err := io.ReadAll(r.Reader)
	if err != nil {
		return 0, err
	}
	if _, err := w.WriteAt(data, 0); err != nil {
		return 0, err
	}
	ra, ok := w.(io.ReaderAt)
	*r.readBack = ok
	if ok {
		back := make([]byte, len(data))
		if _, err := ra.ReadAt(back, 0); err != nil {
			return 0, fmt.Errorf("reading back: %w", err)
		}
		if !bytes.Equal(back, data) {
			return 0, errors.New("read back other bytes")
		}
	}
	return int64(len(data)), nil
}

// unreadable is a bufAt whose read back fails.
type unreadable struct{ bufAt }

func (*unreadable) ReadAt([]byte, int64) (int, error) { return 0, errSink }

// TestDownloadAtLetsTheReadReadBack proves that DownloadAt hands the
// driver's WriteAtTo a destination it can read back from when the caller's
// is an io.ReaderAt (a file), through every wrapper on the way, and not
// otherwise; a failed read back is the destination's failure.
func TestDownloadAtLetsTheReadReadBack(t *testing.T) {
	ctx := context.Background()
	var readBack bool
	b := blob.Wrap(newMem(t), func(d blob.Driver) blob.Driver { return backDriver{d, &readBack} })
	put(t, b, "k", "some bytes")

	f, err := os.Create(filepath.Join(t.TempDir(), "k"))
	require.NoError(t, err)
	defer f.Close()
	n, err := blob.DownloadAt(ctx, b, "k", f)
	require.NoError(t, err)
	require.Equal(t, int64(10), n)
	require.True(t, readBack, "a file can be read back")

	var w bufAt
	_, err = blob.DownloadAt(ctx, b, "k", &w)
	require.NoError(t, err)
	require.False(t, readBack, "a plain io.WriterAt cannot")
	require.Equal(t, "some bytes", string(w.b))

	_, err = blob.DownloadAt(ctx, b, "k", &unreadable{})
	require.ErrorIs(t, err, errSink)
	require.ErrorContains(t, err, "writing the destination")
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errSink }

func TestExists(t *testing.T) {
	ctx := context.Background()
	b := newMem(t)
	put(t, b, "here", "x")
	ok, err := blob.Exists(ctx, b, "here")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = blob.Exists(ctx, b, "there")
	require.NoError(t, err)
	require.False(t, ok)
	_, err = blob.Exists(ctx, b, "")
	require.ErrorIs(t, err, blob.ErrInvalidArgument, "a bad key is an error, not a no")
}

// countingBucket is a driver over a bucket (a Bucket has every Driver method
// but ErrorDetail) that counts List and Delete calls. It has no
// DeleteKeys, so the shared layer deletes one key at a time.
type countingBucket struct {
	blob.Bucket
	lists   int
	deletes int
}

func (c *countingBucket) ErrorDetail(error) blob.ErrorDetail { return blob.ErrorDetail{} }

// open returns the Bucket users would hold over c.
func (c *countingBucket) open() blob.Bucket { return blob.NewBucket("count", "c", c) }

func (c *countingBucket) List(ctx context.Context, o *blob.ListOptions) (*blob.ListPage, error) {
	c.lists++
	return c.Bucket.List(ctx, o)
}

func (c *countingBucket) Delete(ctx context.Context, key string) error {
	c.deletes++
	return c.Bucket.Delete(ctx, key)
}

type batchCounting struct {
	*countingBucket
	batches [][]string
}

func (c *batchCounting) DeleteKeys(ctx context.Context, keys []string) error {
	c.batches = append(c.batches, keys)
	return c.Bucket.(blob.BatchDeleter).DeleteKeys(ctx, keys)
}

func (c *batchCounting) open() blob.Bucket { return blob.NewBucket("count", "c", c) }

func TestObjectsWalksEveryPageInOrder(t *testing.T) {
	ctx := context.Background()
	b := newMem(t)
	for _, k := range []string{"a", "d/1", "d/2", "b", "e/x/y", "c"} {
		put(t, b, k, "v")
	}
	cb := &countingBucket{Bucket: b}
	var got []string
	for obj, err := range blob.Objects(ctx, cb.open(), &blob.ListOptions{Delimiter: "/", PageSize: 2}) {
		require.NoError(t, err)
		if obj.IsPrefix {
			got = append(got, "prefix:"+obj.Key)
		} else {
			got = append(got, obj.Key)
		}
	}
	require.Equal(t, []string{"a", "b", "c", "prefix:d/", "prefix:e/"}, got)
	require.Equal(t, 3, cb.lists, "five entries in pages of two")

	cb.lists = 0
	for range blob.Objects(ctx, cb.open(), &blob.ListOptions{PageSize: 2}) {
		break
	}
	require.Equal(t, 1, cb.lists, "breaking out stops the listing")

	var errs int
	for _, err := range blob.Objects(ctx, b, &blob.ListOptions{Prefix: "bad\x00"}) {
		require.ErrorIs(t, err, blob.ErrInvalidArgument)
		errs++
	}
	require.Equal(t, 1, errs, "an error is yielded once")
}

func TestDeletePrefix(t *testing.T) {
	ctx := context.Background()
	fill := func(b blob.Bucket) {
		for i := range 7 {
			put(t, b, "logs/"+string(rune('a'+i)), "v")
		}
		put(t, b, "logsX", "keep")
		put(t, b, "other", "keep")
	}

	t.Run("batch", func(t *testing.T) {
		b := newMem(t)
		fill(b)
		bc := &batchCounting{countingBucket: &countingBucket{Bucket: b}}
		n, err := blob.DeletePrefix(ctx, bc.open(), "logs/")
		require.NoError(t, err)
		require.Equal(t, 7, n)
		require.Len(t, bc.batches, 1)
		require.Zero(t, bc.deletes, "a BatchDeleter is used instead of Delete")
		require.Equal(t, []string{"logsX", "other"}, keys(t, b, ""))
	})
	t.Run("one by one", func(t *testing.T) {
		b := newMem(t)
		fill(b)
		cb := &countingBucket{Bucket: b}
		n, err := blob.DeletePrefix(ctx, cb.open(), "logs/")
		require.NoError(t, err)
		require.Equal(t, 7, n)
		require.Equal(t, 7, cb.deletes)
		require.Equal(t, []string{"logsX", "other"}, keys(t, b, ""))
	})
	t.Run("everything", func(t *testing.T) {
		b := newMem(t)
		fill(b)
		n, err := blob.DeletePrefix(ctx, b, "")
		require.NoError(t, err)
		require.Equal(t, 9, n)
		require.Empty(t, keys(t, b, ""))
	})
}
