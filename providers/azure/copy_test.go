package azure_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/azure"
)

// copyProxy sits in front of Azurite (which copies at once) and makes a
// copy look asynchronous: the Copy Blob answer says "pending", and so do
// the next `pending` property reads of the destination; then it reports
// final (the real status when "", else that status with a description).
type copyProxy struct {
	mu      sync.Mutex
	pending int
	final   string
	polls   int
}

func (p *copyProxy) start(t *testing.T, target string) string {
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	rp.ModifyResponse = func(resp *http.Response) error {
		r := resp.Request
		p.mu.Lock()
		defer p.mu.Unlock()
		switch {
		case r.Method == http.MethodPut && r.Header.Get("X-Ms-Copy-Source") != "":
			resp.Header.Set("X-Ms-Copy-Status", "pending")
		case r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/dst"):
			p.polls++
			if p.pending > 0 {
				p.pending--
				resp.Header.Set("X-Ms-Copy-Status", "pending")
			} else if p.final != "" {
				resp.Header.Set("X-Ms-Copy-Status", p.final)
				resp.Header.Set("X-Ms-Copy-Status-Description", "500 InternalError copy failed in test")
			}
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Host = u.Host
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + u.Path
}

func TestCopyWaitsForPendingCopies(t *testing.T) {
	az := emulator.Azurite(t, nil)
	ctx := context.Background()
	admin, err := azure.New(ctx, azure.Options{ConnectionString: az.ConnectionString})
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		pending int
		final   string
		wantErr string
	}{
		{"pending then success", 2, "", ""},
		{"pending then failed", 1, "failed", "copy failed"},
		{"aborted at once", 0, "aborted", "copy aborted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			container := "copy-" + strings.ReplaceAll(tc.name, " ", "-")
			require.NoError(t, admin.CreateContainer(ctx, container))
			p := &copyProxy{pending: tc.pending, final: tc.final}
			b, err := azure.OpenBucket(ctx, container, azure.Options{ServiceURL: p.start(t, az.BlobEndpoint), Account: az.Account, SharedKey: az.Key})
			require.NoError(t, err)
			require.NoError(t, blob.WriteAll(ctx, b, "src", []byte("payload"), nil))
			err = b.Copy(ctx, "dst", "src", nil)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, blob.ErrInternal)
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.pending+1, p.polls, "polled until the copy was no longer pending")
			got, err := blob.ReadAll(ctx, b, "dst")
			require.NoError(t, err)
			require.Equal(t, "payload", string(got))
		})
	}
}
