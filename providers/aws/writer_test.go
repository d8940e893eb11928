package aws

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
	"github.com/anyblob/anyblob/conformance/emulator"
)

// chunkReader hands out data in reads of n bytes, hiding any WriterTo.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), c.n, len(c.data))
	copy(p, c.data[:k])
	c.data = c.data[k:]
	return k, nil
}

func TestMultipartWriter(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	b, name := newBucket(t, c)
	ctx := context.Background()
	data := pattern(17<<20+123, 7)
	opts := &blob.WriterOptions{PartSize: MinPartSize, Concurrency: 2, ContentType: "application/x-test", Metadata: map[string]string{"m": "ü"}}

	tests := []struct {
		name  string
		write func(w blob.Writer) error
	}{
		{"odd-sized writes", func(w blob.Writer) error {
			_, err := io.CopyBuffer(struct{ io.Writer }{w}, &chunkReader{data: data, n: 777_777}, make([]byte, 777_777))
			return err
		}},
		{"ReadFrom a stream of unknown size", func(w blob.Writer) error {
			_, err := io.Copy(w, &chunkReader{data: data, n: 1 << 20})
			return err
		}},
		{"one big write", func(w blob.Writer) error {
			_, err := w.Write(data)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "big/" + tt.name
			w, err := b.NewWriter(ctx, key, opts)
			require.NoError(t, err)
			require.NoError(t, tt.write(w))
			requireAbsent(t, b, key)
			require.NoError(t, w.Close())
			got, err := blob.ReadAll(ctx, b, key)
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, got), "content differs")
			a, err := b.Attributes(ctx, key)
			require.NoError(t, err)
			require.Equal(t, int64(len(data)), a.Size)
			require.Equal(t, "application/x-test", a.ContentType)
			require.Equal(t, "ü", a.Metadata["m"])
			require.Contains(t, a.ETag, "-", "a multipart ETag")
			require.Nil(t, a.MD5)
			requireNoUploads(t, c, name)
		})
	}
}

func TestWriterFailuresLeaveNothing(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	b, name := newBucket(t, c)
	opts := &blob.WriterOptions{PartSize: MinPartSize, Concurrency: 2}
	data := pattern(12<<20, 9)

	t.Run("Abort mid-upload", func(t *testing.T) {
		w, err := b.NewWriter(context.Background(), "aborted", opts)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
		require.NoError(t, w.Abort(errors.New("changed my mind")))
		require.Error(t, w.Close())
		requireAbsent(t, b, "aborted")
		requireNoUploads(t, c, name)
	})
	t.Run("context canceled mid-upload", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		w, err := b.NewWriter(ctx, "canceled", opts)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
		cancel()
		err = w.Close()
		require.ErrorIs(t, err, blob.ErrCanceled)
		requireAbsent(t, b, "canceled")
		requireNoUploads(t, c, name)
	})
	t.Run("past the part limit", func(t *testing.T) {
		small := newClient(t, minioOptions(ep))
		small.partLimit = 2
		sb, err := small.Bucket(name)
		require.NoError(t, err)
		w, err := sb.NewWriter(context.Background(), "toolarge", opts)
		require.NoError(t, err)
		// Two parts grow 5 MiB, then 10 MiB: 16 MiB needs a third.
		_, err = w.Write(pattern(16<<20, 1))
		require.ErrorIs(t, err, blob.ErrInvalidArgument)
		require.Contains(t, err.Error(), "too large")
		require.Error(t, w.Close())
		requireAbsent(t, b, "toolarge")
		requireNoUploads(t, c, name)
	})
	t.Run("exactly at the part limit", func(t *testing.T) {
		small := newClient(t, minioOptions(ep))
		small.partLimit = 2
		sb, err := small.Bucket(name)
		require.NoError(t, err)
		want := pattern(10<<20, 2)
		require.NoError(t, blob.WriteAll(context.Background(), sb, "fits", want, opts))
		got, err := blob.ReadAll(context.Background(), b, "fits")
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got))
	})
	t.Run("equal parts on R2", func(t *testing.T) {
		// A stream of 12 MiB in at most two parts of 5 MiB: the plan lets
		// the second grow to 10 MiB; R2, which wants equal parts, keeps it
		// at 5 MiB, and the stream does not fit.
		stream := func(profile string) error {
			o := minioOptions(ep)
			o.Profile = profile
			small := newClient(t, o)
			small.partLimit = 2
			sb, err := small.Bucket(name)
			require.NoError(t, err)
			w, err := sb.NewWriter(context.Background(), "stream-"+profile, opts)
			require.NoError(t, err)
			if _, err := w.Write(pattern(12<<20, 3)); err != nil {
				_ = w.Abort(err)
				return err
			}
			return w.Close()
		}
		require.NoError(t, stream("minio"))
		err := stream("r2")
		require.ErrorIs(t, err, blob.ErrInvalidArgument)
		require.Contains(t, err.Error(), "too large")
		requireAbsent(t, b, "stream-r2")
		requireNoUploads(t, c, name)
	})
	t.Run("IfNotExist lost at complete", func(t *testing.T) {
		ctx := context.Background()
		require.NoError(t, blob.WriteAll(ctx, b, "taken", []byte("first"), nil))
		err := blob.WriteAll(ctx, b, "taken", data, &blob.WriterOptions{PartSize: MinPartSize, IfNotExist: true})
		require.ErrorIs(t, err, blob.ErrPreconditionFailed)
		got, err := blob.ReadAll(ctx, b, "taken")
		require.NoError(t, err)
		require.Equal(t, "first", string(got))
		requireNoUploads(t, c, name)
	})
}

func TestUploadFromReaderAtInSections(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	b, name := newBucket(t, c)
	ctx := context.Background()
	want := pattern(12<<20+5, 7)
	opts := &blob.WriterOptions{PartSize: MinPartSize, Concurrency: 2}

	require.NoError(t, blob.Upload(ctx, b, "from-bytes", bytes.NewReader(want), opts))
	got, err := blob.ReadAll(ctx, b, "from-bytes")
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got))

	f, err := os.CreateTemp(t.TempDir(), "src")
	require.NoError(t, err)
	_, err = f.Write(want)
	require.NoError(t, err)
	_, err = f.Seek(0, io.SeekStart)
	require.NoError(t, err)
	require.NoError(t, blob.Upload(ctx, b, "from-file", f, opts))
	require.NoError(t, f.Close())
	got, err = blob.ReadAll(ctx, b, "from-file")
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got))
	requireNoUploads(t, c, name)
}

// TestUnansweredCreateLeavesNoUpload: the answer to CreateMultipartUpload
// is lost once (the connection is reset after MinIO created the upload)
// and the write may not retry: the upload the call never learnt of is
// aborted all the same.
func TestUnansweredCreateLeavesNoUpload(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	_, name := newBucket(t, c)
	p, err := faultproxy.New(ep.Endpoint, 1)
	require.NoError(t, err)
	defer p.Close()
	opts := minioOptions(ep)
	opts.Endpoint = p.URL()
	opts.Retry = RetryPolicy{MaxAttempts: 1}
	pc := newClient(t, opts)
	b, err := pc.Bucket(name)
	require.NoError(t, err)
	p.Add(faultproxy.Rule{Kind: faultproxy.ResetResponse, Times: 1, Match: func(r *http.Request) bool {
		return r.Method == http.MethodPost && r.URL.Query().Has("uploads")
	}})
	err = blob.WriteAll(context.Background(), b, "lost", pattern(12<<20, 3), &blob.WriterOptions{PartSize: MinPartSize})
	require.Error(t, err)
	require.Equal(t, 1, p.Struck()[faultproxy.ResetResponse])
	ups, err := c.ListMultipartUploads(context.Background(), name, "lost")
	require.NoError(t, err)
	require.Empty(t, ups, "no multipart upload left behind")
}
