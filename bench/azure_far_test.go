package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/azure"
)

// BenchmarkAzureFar is BenchmarkS3Far's GET/PUT pair on Azurite:
// anyblob, azblob's DownloadStream (one stream) and DownloadBuffer
// (parallel ranges), and azblob's UploadStream, each with its defaults,
// through the simulated links.
//
//	cd bench && go test -run '^$' -bench BenchmarkAzureFar -benchtime 1x -timeout 30m [-far.size N]
func BenchmarkAzureFar(b *testing.B) {
	// Loose, so that blocks go with their CRC64 as they do to Azure
	// (strict Azurite refuses it, and anyblob then falls back to MD5).
	srv := emulator.Azurite(b, &emulator.AzuriteOptions{Loose: true})
	ctx := context.Background()
	size := int64(*farSize)
	data := bytes.Repeat([]byte("anyblob far link"), int(size/16))
	direct, err := azure.OpenBucket(ctx, "far", azure.Options{ConnectionString: srv.ConnectionString})
	if err != nil {
		b.Fatal(err)
	}
	defer direct.Close()
	sc, err := service.NewClientFromConnectionString(srv.ConnectionString, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sc.CreateContainer(ctx, "far", nil); err != nil {
		b.Fatal(err)
	}
	if err := blob.WriteAll(ctx, direct, "obj", data, nil); err != nil {
		b.Fatal(err)
	}
	u, err := url.Parse(srv.BlobEndpoint)
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range farLinks {
		p := startLink(b, u.Host, l.link)
		conn := strings.Replace(srv.ConnectionString, u.Host, p.Addr(), 1)
		bkt, err := azure.OpenBucket(ctx, "far", azure.Options{ConnectionString: conn})
		if err != nil {
			b.Fatal(err)
		}
		fsc, err := service.NewClientFromConnectionString(conn, nil)
		if err != nil {
			b.Fatal(err)
		}
		cc := fsc.NewContainerClient("far")
		run := func(name string, op func() error) {
			b.Run(fmt.Sprintf("%s/%s", l.name, name), func(b *testing.B) { measureSize(b, size, op) })
		}
		run("GET/anyblob", func() error { return blob.Download(ctx, bkt, "obj", io.Discard) })
		// Into a file, which the MD5 check reads back instead of holding
		// parts in memory.
		file := filepath.Join(b.TempDir(), "obj")
		run("GET/anyblob-DownloadAt-file", func() error {
			f, err := os.Create(file)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = blob.DownloadAt(ctx, bkt, "obj", f)
			return err
		})
		run("GET/azblob-DownloadStream", func() error {
			resp, err := cc.NewBlobClient("obj").DownloadStream(ctx, nil)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.Copy(io.Discard, resp.Body)
			return err
		})
		run("GET/azblob-DownloadBuffer", func() error {
			_, err := cc.NewBlobClient("obj").DownloadBuffer(ctx, make([]byte, size), nil)
			return err
		})
		run("PUT/anyblob", func() error { return blob.Upload(ctx, bkt, "up", bytes.NewReader(data), nil) })
		run("PUT/azblob-UploadStream", func() error {
			_, err := cc.NewBlockBlobClient("up").UploadStream(ctx, bytes.NewReader(data), &blockblob.UploadStreamOptions{})
			return err
		})
		bkt.Close()
		p.Close()
	}
}
