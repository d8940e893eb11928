package azure_test

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/azure"
)

// counter records the comp= parameter and the conditional headers of every
// request, and the checksums of every Put Block with its answer's status.
type counter struct {
	mu     sync.Mutex
	reqs   []string
	blocks []blockPut
}

func (c *counter) Do(r *http.Request) (*http.Response, error) {
	desc := r.Method + " comp=" + r.URL.Query().Get("comp")
	if v := r.Header.Get("If-None-Match"); v != "" {
		desc += " If-None-Match:" + v
	}
	if v := r.Header.Get("If-Match"); v != "" {
		desc += " If-Match"
	}
	resp, err := http.DefaultClient.Do(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, desc)
	if r.Method == http.MethodPut && r.URL.Query().Get("comp") == "block" {
		p := blockPut{crc64: header(r.Header, "x-ms-content-crc64"), md5: header(r.Header, "Content-MD5")}
		if err == nil {
			p.status = resp.StatusCode
		}
		c.blocks = append(c.blocks, p)
	}
	return resp, err
}

// takeBlocks returns the Put Blocks recorded since the last call.
func (c *counter) takeBlocks() []blockPut {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.blocks
	c.blocks = nil
	return b
}

func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reqs
	c.reqs = nil
	return r
}

// TestStagedUploadsKeepTheirPreconditions proves that a multi-block upload
// carries IfNotExist and IfMatch on the Put Block List that commits it, and
// that the service then refuses it: another library once dropped them.
func TestStagedUploadsKeepTheirPreconditions(t *testing.T) {
	srv := emulator.Azurite(t, nil)
	ctx := context.Background()
	cnt := &counter{}
	c, err := azure.New(ctx, azure.Options{
		ConnectionString: srv.ConnectionString,
		ClientOptions:    &service.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: cnt}},
	})
	require.NoError(t, err)
	require.NoError(t, c.CreateContainer(ctx, "staged"))
	b, err := c.Bucket("staged")
	require.NoError(t, err)
	body := bytes.Repeat([]byte("0123456789abcdef"), (10<<20)/16) // 10 MiB: three 4 MiB blocks
	staged := &blob.WriterOptions{PartSize: 4 << 20, Concurrency: 2}

	require.NoError(t, blob.WriteAll(ctx, b, "obj", []byte("original"), nil))
	// A first staged write, for the Client to learn that strict Azurite
	// refuses blocks' CRC64: the counts below are those of a Client that
	// knows.
	require.NoError(t, blob.WriteAll(ctx, b, "warm", body, staged))
	cnt.take()

	opts := *staged
	opts.IfNotExist = true
	err = blob.WriteAll(ctx, b, "obj", body, &opts)
	require.ErrorIs(t, err, blob.ErrPreconditionFailed)
	reqs := cnt.take()
	require.Equal(t, 3, count(reqs, "PUT comp=block"), "%v", reqs)
	require.Equal(t, 1, count(reqs, "PUT comp=blocklist If-None-Match:*"), "%v", reqs)

	old, err := b.Attributes(ctx, "obj")
	require.NoError(t, err)
	require.NoError(t, blob.WriteAll(ctx, b, "obj", []byte("changed"), nil))
	opts = *staged
	opts.IfMatch = old.ETag
	err = blob.WriteAll(ctx, b, "obj", body, &opts)
	require.ErrorIs(t, err, blob.ErrPreconditionFailed)
	reqs = cnt.take()
	require.Equal(t, 1, count(reqs, "PUT comp=blocklist If-Match"), "%v", reqs)

	got, err := blob.ReadAll(ctx, b, "obj")
	require.NoError(t, err)
	require.Equal(t, "changed", string(got), "neither refused commit changed the blob")
}

// count returns how many requests are exactly want.
func count(reqs []string, want string) int {
	n := 0
	for _, r := range reqs {
		if r == want {
			n++
		}
	}
	return n
}
