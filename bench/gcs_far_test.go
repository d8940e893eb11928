package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"cloud.google.com/go/storage"
	"cloud.google.com/go/storage/transfermanager"
	"google.golang.org/api/option"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/gcp"
)

// BenchmarkGCSFar is BenchmarkS3Far's GET/PUT pair on fake-gcs-server:
// anyblob, the storage client's Reader (one stream), its transfermanager
// (ranges in parallel into a buffer) with its defaults and with 12
// workers, and the storage client's Writer, each through the simulated
// links; anyblob writes both as one stream (its default) and composed
// (compose_writes, parts in parallel). Each link has its own server, told the proxy's address, so that
// a resumable upload's chunks go through the link too.
//
//	cd bench && go test -run '^$' -bench BenchmarkGCSFar -benchtime 1x -timeout 30m [-far.size N]
func BenchmarkGCSFar(b *testing.B) {
	ctx := context.Background()
	size := int64(*farSize)
	data := bytes.Repeat([]byte("anyblob far link"), int(size/16))
	for _, l := range farLinks {
		p := startLink(b, "", l.link)
		srv := emulator.FakeGCSBehind(b, p.Addr(), "far")
		p.SetTarget(b, srv.Host)
		// The object to read, in one request straight to the server.
		direct, err := storage.NewClient(ctx, option.WithEndpoint(srv.Endpoint+"/storage/v1/"), option.WithoutAuthentication())
		if err != nil {
			b.Fatal(err)
		}
		w := direct.Bucket("far").Object("obj").NewWriter(ctx)
		w.ChunkSize = 0
		if _, err := w.Write(data); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		direct.Close()

		endpoint := "http://" + p.Addr() + "/storage/v1/"
		bkt, err := gcp.OpenBucket(ctx, "far", gcp.Options{Endpoint: endpoint, Anonymous: true})
		if err != nil {
			b.Fatal(err)
		}
		composed, err := gcp.OpenBucket(ctx, "far", gcp.Options{Endpoint: endpoint, Anonymous: true, ComposeWrites: true})
		if err != nil {
			b.Fatal(err)
		}
		sc, err := storage.NewClient(ctx, option.WithEndpoint(endpoint), option.WithoutAuthentication())
		if err != nil {
			b.Fatal(err)
		}
		obj := sc.Bucket("far").Object("obj")
		run := func(name string, op func() error) {
			b.Run(fmt.Sprintf("%s/%s", l.name, name), func(b *testing.B) { measureSize(b, size, op) })
		}
		tm := func(opts ...transfermanager.Option) func() error {
			return func() error {
				d, err := transfermanager.NewDownloader(sc, opts...)
				if err != nil {
					return err
				}
				buf := transfermanager.NewDownloadBuffer(make([]byte, size))
				if err := d.DownloadObject(ctx, &transfermanager.DownloadObjectInput{Bucket: "far", Object: "obj", Destination: buf}); err != nil {
					return err
				}
				outs, err := d.WaitAndClose()
				if err != nil {
					return err
				}
				for _, o := range outs {
					if o.Err != nil {
						return o.Err
					}
				}
				return nil
			}
		}
		run("GET/anyblob", func() error { return blob.Download(ctx, bkt, "obj", io.Discard) })
		run("GET/storage-Reader", func() error {
			r, err := obj.NewReader(ctx)
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(io.Discard, r)
			return err
		})
		run("GET/transfermanager", tm())
		run("GET/transfermanager-12", tm(transfermanager.WithWorkers(12)))
		run("PUT/anyblob", func() error { return blob.Upload(ctx, bkt, "up", bytes.NewReader(data), nil) })
		run("PUT/anyblob-compose_writes", func() error { return blob.Upload(ctx, composed, "up", bytes.NewReader(data), nil) })
		run("PUT/storage-Writer", func() error {
			w := sc.Bucket("far").Object("up").NewWriter(ctx)
			if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
				w.Close()
				return err
			}
			return w.Close()
		})
		bkt.Close()
		composed.Close()
		sc.Close()
		p.Close()
	}
}
