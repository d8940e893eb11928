package azure_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/providers/azure"
)

// What Azure Blob Storage answers a request for a blob written with a
// customer-provided key (CPK) when the request carries no key: 409
// Conflict, this error code, and this message (in the status line and,
// for a GET, in the XML error body).
const (
	cpkCode    = "BlobUsesCustomerSpecifiedEncryption"
	cpkMessage = "The blob is encrypted with customer specified encryption, but it was not provided in the request."
)

// cpkRequest is what the fake service saw of one request.
type cpkRequest struct {
	method, path, authorization, encryptionKey, requestID string
}

// cpkService is a loopback server that answers every request as Azure
// answers a read of a blob written with a customer-provided key made
// without the key. Azurite cannot: in strict mode it refuses CPK writes,
// in loose mode it ignores the key. Azure puts its message in the reason
// phrase of the status line, which is the only place it is for a HEAD
// and the place the driver takes its message from; net/http's
// ResponseWriter always writes the standard phrase ("Conflict"), so the
// answer is written on the hijacked connection, byte for byte.
type cpkService struct {
	srv *httptest.Server

	mu   sync.Mutex
	seen []cpkRequest
}

// newCPKService starts the server; it is closed when the test ends.
func newCPKService(t *testing.T) *cpkService {
	s := &cpkService{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.answer))
	t.Cleanup(s.srv.Close)
	return s
}

// answer writes Azure's 409 for r on the raw connection.
func (s *cpkService) answer(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	s.mu.Lock()
	id := fmt.Sprintf("0f1e2d3c-cpk-%04d", len(s.seen)+1)
	s.seen = append(s.seen, cpkRequest{method: r.Method, path: r.URL.Path, authorization: r.Header.Get("Authorization"),
		encryptionKey: r.Header.Get("x-ms-encryption-key"), requestID: id})
	s.mu.Unlock()

	var body string
	if r.Method != http.MethodHead {
		body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>` + cpkCode + `</Code><Message>` + cpkMessage +
			"\nRequestId:" + id + "\nTime:" + time.Now().UTC().Format("2006-01-02T15:04:05.0000000Z") + `</Message></Error>`
	}
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	writeRaw(rw, cpkMessage, []string{
		"Content-Length: " + strconv.Itoa(len(body)),
		"Content-Type: application/xml",
		"Server: Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0",
		"x-ms-request-id: " + id,
		"x-ms-version: " + r.Header.Get("x-ms-version"),
		"x-ms-error-code: " + cpkCode,
		"Date: " + time.Now().UTC().Format(http.TimeFormat),
		"Connection: close",
	}, body)
}

// writeRaw writes an HTTP/1.1 409 response with reason phrase reason,
// the header lines and body, and flushes it.
func writeRaw(rw *bufio.ReadWriter, reason string, header []string, body string) {
	fmt.Fprintf(rw, "HTTP/1.1 409 %s\r\n", reason)
	for _, h := range header {
		fmt.Fprintf(rw, "%s\r\n", h)
	}
	fmt.Fprintf(rw, "\r\n%s", body)
	_ = rw.Flush()
}

// requests returns what the server has seen.
func (s *cpkService) requests() []cpkRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]cpkRequest(nil), s.seen...)
}

// TestReadingACustomerKeyBlobWithoutTheKey: a read (NewReader, ReadAll)
// and Attributes of a blob Azure says is encrypted with a customer-provided
// key, made without the key, fail at once (409 is not retried) with
// ErrPermissionDenied; the message carries Azure's code, status, request
// ID and its words saying the key was not provided, and nothing secret
// (neither the account key nor the request's signature).
func TestReadingACustomerKeyBlobWithoutTheKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := newCPKService(t)
	accountKey := base64.StdEncoding.EncodeToString([]byte("anyblob-cpk-test-ACCOUNT-KEY-42!"))
	b, err := azure.OpenBucket(ctx, "vault", azure.Options{ServiceURL: s.srv.URL + "/acct", Account: "acct", SharedKey: accountKey,
		Retry: blob.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })

	const key = "reports/q3.csv"
	check := func(t *testing.T, err error, method string) {
		t.Helper()
		require.Error(t, err)
		t.Logf("%s: %v", method, err)
		require.ErrorIs(t, err, blob.ErrPermissionDenied, "%v", err)
		var be *blob.Error
		require.ErrorAs(t, err, &be)
		require.Equal(t, cpkCode, be.Code)
		require.Equal(t, http.StatusConflict, be.Status)

		seen := s.requests()
		require.NotEmpty(t, seen, "the request reached the server")
		last := seen[len(seen)-1]
		require.Equal(t, method, last.method)
		require.Equal(t, "/acct/vault/reports/q3.csv", last.path)
		require.Empty(t, last.encryptionKey, "the request carries no customer key")
		require.Equal(t, last.requestID, be.RequestID)

		msg := err.Error()
		require.Contains(t, msg, cpkCode)
		require.Contains(t, msg, "status 409")
		require.Contains(t, msg, "request id "+last.requestID)
		require.Contains(t, msg, "encrypted with customer specified encryption, but it was not provided in the request",
			"the message says the blob needs its key")
		require.Contains(t, msg, "give it in ReaderOptions.Encryption", "and the driver says where to give it")
		require.NotContains(t, msg, "\n")

		require.NotContains(t, msg, accountKey, "no account key in the message")
		require.NotContains(t, msg, "ACCOUNT-KEY", "no account key in the message")
		sig := last.authorization[strings.LastIndexByte(last.authorization, ':')+1:]
		require.NotEmpty(t, sig, "the request was signed: %q", last.authorization)
		require.NotContains(t, msg, sig, "no request signature in the message")
	}

	t.Run("NewReader", func(t *testing.T) {
		r, err := b.NewReader(ctx, key, nil)
		if err == nil {
			r.Close()
		}
		check(t, err, http.MethodGet)
	})
	t.Run("ReadAll", func(t *testing.T) {
		_, err := blob.ReadAll(ctx, b, key)
		check(t, err, http.MethodGet)
	})
	t.Run("Attributes", func(t *testing.T) {
		_, err := b.Attributes(ctx, key)
		check(t, err, http.MethodHead)
	})

	var gets, heads int
	for _, r := range s.requests() {
		switch r.method {
		case http.MethodGet:
			gets++
		case http.MethodHead:
			heads++
		default:
			t.Errorf("unexpected %s %s", r.method, r.path)
		}
	}
	require.Equal(t, 2, gets, "each read is sent once: 409 is not retried")
	require.Equal(t, 1, heads, "Attributes is sent once: 409 is not retried")
}
