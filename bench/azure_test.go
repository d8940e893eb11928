package bench

import (
	"bytes"
	"context"
	"crypto/md5"
	"io"
	"testing"

	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/azure"
)

// azureObjectSize is the object size of the Azure benchmarks.
const azureObjectSize = 64 << 20

// azureClients returns the anyblob bucket and an azblob container client
// for one container on one fresh Azurite, and its connection string.
func azureClients(b *testing.B) (blob.Bucket, *container.Client, string) {
	// Loose, so that blocks go with their CRC64 as they do to Azure
	// (strict Azurite refuses it, and anyblob then falls back to MD5).
	srv := emulator.Azurite(b, &emulator.AzuriteOptions{Loose: true})
	sc, err := service.NewClientFromConnectionString(srv.ConnectionString, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sc.CreateContainer(context.Background(), "bench", nil); err != nil {
		b.Fatal(err)
	}
	bkt, err := azure.OpenBucket(context.Background(), "bench", azure.Options{ConnectionString: srv.ConnectionString})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bkt.Close() })
	return bkt, sc.NewContainerClient("bench"), srv.ConnectionString
}

// BenchmarkAzureUpload uploads 64 MiB through anyblob and through azblob's
// own parallel uploader with the same block size and concurrency.
func BenchmarkAzureUpload(b *testing.B) {
	data := bytes.Repeat([]byte("anyblob!"), azureObjectSize/8)
	bkt, cc, _ := azureClients(b)
	ctx := context.Background()
	b.Run("anyblob", func(b *testing.B) {
		b.SetBytes(azureObjectSize)
		for b.Loop() {
			if err := blob.Upload(ctx, bkt, "up-anyblob", bytes.NewReader(data), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("azblob", func(b *testing.B) {
		b.SetBytes(azureObjectSize)
		bb := cc.NewBlockBlobClient("up-azblob")
		for b.Loop() {
			if _, err := bb.UploadStream(ctx, bytes.NewReader(data), &blockblob.UploadStreamOptions{
				BlockSize: azure.DefaultPartSize, Concurrency: azure.DefaultConcurrency,
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// azblob with the checks anyblob makes: the blob's MD5 stored with it
	// (hashed here, as a caller of azblob must) and every block checked by
	// the service, with the one per-block check UploadStream offers (CRC64).
	b.Run("azblob-checked", func(b *testing.B) {
		b.SetBytes(azureObjectSize)
		bb := cc.NewBlockBlobClient("up-azblob-checked")
		for b.Loop() {
			sum := md5.Sum(data)
			if _, err := bb.UploadStream(ctx, bytes.NewReader(data), &blockblob.UploadStreamOptions{
				BlockSize: azure.DefaultPartSize, Concurrency: azure.DefaultConcurrency,
				HTTPHeaders:             &azblobblob.HTTPHeaders{BlobContentMD5: sum[:]},
				TransactionalValidation: azblobblob.TransferValidationTypeComputeCRC64(),
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAzureDownload reads a 64 MiB blob through anyblob and through
// azblob's DownloadStream.
func BenchmarkAzureDownload(b *testing.B) {
	data := bytes.Repeat([]byte("anyblob!"), azureObjectSize/8)
	bkt, cc, conn := azureClients(b)
	ctx := context.Background()
	if err := blob.WriteAll(ctx, bkt, "down", data, nil); err != nil {
		b.Fatal(err)
	}
	b.Run("anyblob", func(b *testing.B) {
		b.SetBytes(azureObjectSize)
		for b.Loop() {
			if err := blob.Download(ctx, bkt, "down", io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same read kept to one stream, to tell the probe's choice from
	// the stream's own cost.
	one, err := azure.OpenBucket(ctx, "bench", azure.Options{ConnectionString: conn, ReadConcurrency: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer one.Close()
	b.Run("anyblob-one-stream", func(b *testing.B) {
		b.SetBytes(azureObjectSize)
		for b.Loop() {
			if err := blob.Download(ctx, one, "down", io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("azblob", func(b *testing.B) {
		b.SetBytes(azureObjectSize)
		bc := cc.NewBlobClient("down")
		for b.Loop() {
			resp, err := bc.DownloadStream(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	// azblob with the check anyblob makes: the bytes read are hashed and
	// compared with the blob's Content-MD5.
	b.Run("azblob-checked", func(b *testing.B) {
		b.SetBytes(azureObjectSize)
		bc := cc.NewBlobClient("down")
		for b.Loop() {
			resp, err := bc.DownloadStream(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			h := md5.New()
			if _, err := io.Copy(h, resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if !bytes.Equal(h.Sum(nil), resp.ContentMD5) {
				b.Fatal("azblob: the bytes read do not match the blob's Content-MD5")
			}
		}
	})
}
