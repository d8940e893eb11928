package azure_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/azure"
)

// blockPut is what a Put Block request carried and what it was answered.
type blockPut struct {
	crc64, md5 string
	status     int
}

// header is h's value for name in any case: the SDK sets some headers in
// a form that is not canonical, which Header.Get does not find.
func header(h http.Header, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// recordedBucket opens a container on srv through a counter, with its
// azblob client for reference requests.
func recordedBucket(t *testing.T, srv *emulator.AzuriteServer) (blob.Bucket, *counter, *service.Client) {
	ctx := context.Background()
	rec := &counter{}
	co := &service.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: rec}}
	c, err := azure.New(ctx, azure.Options{ConnectionString: srv.ConnectionString, ClientOptions: co})
	require.NoError(t, err)
	require.NoError(t, c.CreateContainer(ctx, "crc"))
	b, err := c.Bucket("crc")
	require.NoError(t, err)
	sc, err := service.NewClientFromConnectionString(srv.ConnectionString, co)
	require.NoError(t, err)
	return b, rec, sc
}

// TestBlocksCarryTheirCRC64 proves that a staged write sends each block
// with its CRC64 and no MD5, and that the CRC64 is the one the SDK itself
// computes for the same bytes (Azure's polynomial and byte order): Azurite
// accepts the header in loose mode but does not check it.
func TestBlocksCarryTheirCRC64(t *testing.T) {
	ctx := context.Background()
	b, rec, sc := recordedBucket(t, emulator.Azurite(t, &emulator.AzuriteOptions{Loose: true}))
	block := bytes.Repeat([]byte("crc64 block "), azure.MinBlockSize/12+1)[:azure.MinBlockSize]
	data := bytes.Repeat(block, 3) // three equal blocks
	require.NoError(t, blob.WriteAll(ctx, b, "staged", data, &blob.WriterOptions{PartSize: azure.MinBlockSize}))
	got, err := blob.ReadAll(ctx, b, "staged")
	require.NoError(t, err)
	require.Equal(t, data, got)

	puts := rec.takeBlocks()
	require.Len(t, puts, 3, "%v", puts)
	_, err = sc.NewContainerClient("crc").NewBlockBlobClient("reference").StageBlock(ctx, "cmVm",
		streaming.NopCloser(bytes.NewReader(block)),
		&blockblob.StageBlockOptions{TransactionalValidation: azblobblob.TransferValidationTypeComputeCRC64()})
	require.NoError(t, err)
	ref := rec.takeBlocks()
	require.Len(t, ref, 1)
	require.NotEmpty(t, ref[0].crc64)
	for _, p := range puts {
		require.Equal(t, blockPut{crc64: ref[0].crc64, status: http.StatusCreated}, p)
	}
}

// TestStrictAzuriteGetsBlockMD5s proves that a server which refuses a
// block's CRC64 (strict Azurite answers FeatureNotSupported) gets the
// block again with its MD5, that the write then succeeds whole, and that
// the Client remembers: a later write sends no CRC64 at all.
func TestStrictAzuriteGetsBlockMD5s(t *testing.T) {
	ctx := context.Background()
	b, rec, _ := recordedBucket(t, emulator.Azurite(t, nil))
	data := bytes.Repeat([]byte("strict mode "), 3*azure.MinBlockSize/12)
	opts := &blob.WriterOptions{PartSize: azure.MinBlockSize, Concurrency: 2}
	require.NoError(t, blob.WriteAll(ctx, b, "first", data, opts))
	got, err := blob.ReadAll(ctx, b, "first")
	require.NoError(t, err)
	require.Equal(t, data, got)

	var refused, withMD5 int
	for _, p := range rec.takeBlocks() {
		switch {
		case p.crc64 != "":
			require.Equal(t, http.StatusInternalServerError, p.status, "strict Azurite refuses CRC64")
			refused++
		case p.md5 != "":
			require.Equal(t, http.StatusCreated, p.status)
			withMD5++
		default:
			t.Fatalf("a block went with neither checksum: %+v", p)
		}
	}
	require.Equal(t, 3, withMD5, "every block is staged once with its MD5")
	require.True(t, refused >= 1 && refused <= opts.Concurrency, "at most the blocks in flight are refused (%d)", refused)

	require.NoError(t, blob.WriteAll(ctx, b, "second", data, opts))
	for _, p := range rec.takeBlocks() {
		require.Empty(t, p.crc64, "the Client remembers that the server refuses CRC64")
		require.NotEmpty(t, p.md5)
	}
}
