package bench

import (
	"bytes"
	"context"
	"io"
	"testing"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/gcp"
)

// gcsObjectSize is the object size of the GCS benchmarks.
const gcsObjectSize = 64 << 20

// gcsClients returns the anyblob bucket and a storage client for bucket
// "bench" on one fresh fake-gcs-server, with the same chunk size.
func gcsClients(b *testing.B) (blob.Bucket, *storage.BucketHandle) {
	srv := emulator.FakeGCS(b, "bench")
	ctx := context.Background()
	bkt, err := gcp.OpenBucket(ctx, "bench", gcp.Options{Endpoint: srv.Endpoint, Anonymous: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bkt.Close() })
	sc, err := storage.NewClient(ctx, option.WithEndpoint(srv.Endpoint+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sc.Close() })
	return bkt, sc.Bucket("bench")
}

// BenchmarkGCSUpload uploads 64 MiB through anyblob and through the storage
// client directly, on the same fake-gcs-server.
func BenchmarkGCSUpload(b *testing.B) {
	data := bytes.Repeat([]byte("anyblob!"), gcsObjectSize/8)
	bkt, direct := gcsClients(b)
	ctx := context.Background()
	b.Run("anyblob", func(b *testing.B) {
		b.SetBytes(gcsObjectSize)
		for b.Loop() {
			if err := blob.Upload(ctx, bkt, "up-anyblob", bytes.NewReader(data), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("storage", func(b *testing.B) {
		b.SetBytes(gcsObjectSize)
		for b.Loop() {
			w := direct.Object("up-storage").NewWriter(ctx)
			w.ChunkSize = gcp.DefaultPartSize
			w.ContentType = "application/octet-stream"
			if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGCSDownload reads a 64 MiB object through anyblob and through
// the storage client directly.
func BenchmarkGCSDownload(b *testing.B) {
	data := bytes.Repeat([]byte("anyblob!"), gcsObjectSize/8)
	bkt, direct := gcsClients(b)
	ctx := context.Background()
	if err := blob.WriteAll(ctx, bkt, "down", data, nil); err != nil {
		b.Fatal(err)
	}
	b.Run("anyblob", func(b *testing.B) {
		b.SetBytes(gcsObjectSize)
		for b.Loop() {
			if err := blob.Download(ctx, bkt, "down", io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("storage", func(b *testing.B) {
		b.SetBytes(gcsObjectSize)
		for b.Loop() {
			r, err := direct.Object("down").NewReader(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				b.Fatal(err)
			}
			r.Close()
		}
	})
}
