package all_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// TestOneRoundTripPerSmallOperation proves that a small write, Attributes,
// Exists, a missing key's Attributes, and a page of List each cost one
// request on every cloud: over a far link every extra request is another
// round trip (the far-link issue's small-object target,
// BenchmarkS3FarSmall). On S3 the first write of a client in a folder
// also learns the server's profile and, on MinIO, whether the folder's
// name is an object (providers/aws: a HEAD of the bucket, one listing of
// the folder, a HEAD of its name), once.
func TestOneRoundTripPerSmallOperation(t *testing.T) {
	for _, fb := range faultyBackends(t, "roundtrips", 1) {
		t.Run(fb.name, func(t *testing.T) {
			ctx := context.Background()
			b := fb.open(t, fastRetry)
			var mu sync.Mutex
			var sent []string
			fb.proxy.OnRequest = func(r *http.Request) {
				mu.Lock()
				sent = append(sent, r.Method+" "+r.URL.RequestURI())
				mu.Unlock()
			}
			t.Cleanup(func() { fb.proxy.OnRequest = nil })
			take := func() []string {
				mu.Lock()
				defer mu.Unlock()
				s := sent
				sent = nil
				return s
			}
			data := make([]byte, 4<<10)
			one := func(what string) {
				t.Helper()
				got := take()
				require.Len(t, got, 1, "%s: %v", what, got)
			}
			require.NoError(t, blob.WriteAll(ctx, b, "rt/first", data, nil))
			if first := take(); fb.name == "s3" {
				require.LessOrEqual(t, len(first), 4, "the first write: %v", first)
			} else {
				require.Len(t, first, 1, "the first write: %v", first)
			}
			for i := range 3 {
				require.NoError(t, blob.WriteAll(ctx, b, fmt.Sprintf("rt/k%d", i), data, nil))
				one("a small write")
			}
			_, err := b.Attributes(ctx, "rt/k0")
			require.NoError(t, err)
			one("Attributes")
			ok, err := blob.Exists(ctx, b, "rt/k1")
			require.NoError(t, err)
			require.True(t, ok)
			one("Exists")
			_, err = b.Attributes(ctx, "rt/missing")
			require.ErrorIs(t, err, blob.ErrNotFound)
			one("Attributes of a missing key")
			page, err := b.List(ctx, &blob.ListOptions{Prefix: "rt/"})
			require.NoError(t, err)
			require.Len(t, page.Objects, 4)
			one("a List page")
		})
	}
}
