package azure

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/anyblob/anyblob/internal/events"
	"github.com/anyblob/anyblob/internal/retry"
)

// retryPolicy is the pipeline step that retries a request as
// Options.Retry says, with the rules every provider shares
// (internal/retry): the SDK's own retry policy is switched off, because
// its waits are not full jitter, it has no budget, and a wait that runs
// into the caller's deadline ends in a deadline error that hides the
// failure. It sits before authentication, so every attempt is signed
// afresh.
type retryPolicy struct{ r *retry.Retrier }

func (p retryPolicy) Do(req *policy.Request) (*http.Response, error) {
	ctx := req.Raw().Context()
	sent, _ := ctx.Value(attemptsKey{}).(*atomic.Int32)
	for attempt := 1; ; attempt++ {
		if sent != nil {
			sent.Store(int32(attempt))
		}
		if err := req.RewindBody(); err != nil {
			return nil, err
		}
		resp, err := req.Clone(ctx).Next()
		if ctx.Err() != nil {
			if err == nil {
				runtime.Drain(resp)
			}
			return nil, ctx.Err()
		}
		var nr interface{ NonRetriable() }
		if err == nil && (!retry.Status(resp.StatusCode) || resp.Header.Get("x-ms-error-code") == "FeatureNotSupported") && !checksumMismatch(resp) || err != nil && errors.As(err, &nr) {
			return resp, err // FeatureNotSupported: Azurite answers it with a 500
		}
		cause := err
		if cause == nil && events.Listening(ctx) {
			// The answer as an error, for the retry's event: the error
			// body is read and kept readable.
			cause = runtime.NewResponseError(resp)
		}
		switch again := p.r.Again(ctx, attempt, cause); {
		case again == retry.ErrStop:
			return resp, err // the last failure is the answer
		case again != nil:
			if err == nil {
				runtime.Drain(resp)
			}
			return nil, again
		}
		if err == nil {
			runtime.Drain(resp)
		}
	}
}

type attemptsKey struct{}

// countAttempts returns ctx with a counter the retry policy sets to the
// number of times the request made with it was sent.
func countAttempts(ctx context.Context) (context.Context, *atomic.Int32) {
	n := new(atomic.Int32)
	return context.WithValue(ctx, attemptsKey{}, n), n
}

// checksumMismatch reports whether resp says a request body arrived
// changed (its MD5 or CRC64 did not match): corruption on the way, which
// the same bytes sent again cure. Azure says Md5Mismatch or Crc64Mismatch;
// Azurite says InvalidOperation with "contentMD5 doesn't match" in the
// message, which is rewritten here to Md5Mismatch so that it classifies
// the same way (ErrInternal, see codes).
func checksumMismatch(resp *http.Response) bool {
	if resp.StatusCode != http.StatusBadRequest {
		return false
	}
	switch resp.Header.Get("x-ms-error-code") {
	case "Md5Mismatch", "Crc64Mismatch":
		return true
	case "InvalidOperation":
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if err == nil && bytes.Contains(body, []byte("contentMD5 doesn't match")) {
			resp.Header.Set("x-ms-error-code", "Md5Mismatch")
			return true
		}
	}
	return false
}

// clientOptions returns the SDK options New uses: the caller's, with the
// SDK's retries off and ours first in the pipeline.
func clientOptions(opts Options, r *retry.Retrier) *service.ClientOptions {
	var co service.ClientOptions
	if opts.ClientOptions != nil {
		co = *opts.ClientOptions
	}
	co.Retry = policy.RetryOptions{MaxRetries: -1}
	if co.Transport == nil {
		co.Transport = defaultHTTPClient()
	}
	co.PerCallPolicies = append([]policy.Policy{retryPolicy{r}, blockListMD5{}}, co.PerCallPolicies...)
	return &co
}

// blockListMD5 gives a Put Block List request the MD5 of its body
// (Content-MD5, which the service checks), which the SDK cannot: a block
// list changed on the way could otherwise name other blocks than the
// writer staged, and commit them.
type blockListMD5 struct{}

func (blockListMD5) Do(req *policy.Request) (*http.Response, error) {
	raw := req.Raw()
	if raw.Method == http.MethodPut && raw.URL.Query().Get("comp") == "blocklist" && len(raw.Header["Content-MD5"]) == 0 && raw.Body != nil {
		body, err := io.ReadAll(raw.Body)
		if err != nil {
			return nil, err
		}
		if err := req.RewindBody(); err != nil {
			return nil, err
		}
		sum := md5.Sum(body)
		// Not Header.Set: the SDK reads and signs the header under this
		// exact, non-canonical name.
		raw.Header["Content-MD5"] = []string{base64.StdEncoding.EncodeToString(sum[:])}
	}
	return req.Next()
}

var (
	defaultClientOnce sync.Once
	defaultClient     *http.Client
)

// defaultHTTPClient is the transport of every Client made without one, so
// connections are pooled across clients. It is the SDK's default but for
// the pool, which keeps up to 64 idle connections per host instead of 10
// (parallel reads fetch up to 15 parts at once and writers stage 8 blocks each,
// and a part that found no idle connection would pay a new handshake),
// HTTP/1.1 (the service speaks it, and on HTTP/2 every part would
// share one connection, which is what parallel parts are there to avoid) and no transparent
// decompression.
func defaultHTTPClient() *http.Client {
	defaultClientOnce.Do(func() {
		dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		defaultClient = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			// A blob stored with Content-Encoding: gzip is read as
			// stored, not unpacked behind the caller's back (and its
			// Content-MD5 still checked).
			DisableCompression: true,
		}}
	})
	return defaultClient
}
