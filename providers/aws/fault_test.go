package aws

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
)

// A faultKind is what the proxy does to a request it picks.
type faultKind int

const (
	slowDown      faultKind = iota // answer 503 SlowDown
	resetRequest                   // read some of the body, then reset the connection
	resetResponse                  // send headers and some of the body, then reset
	stallResponse                  // answer nothing until the client gives up
	stallBody                      // send headers and some of the body, then stall
	corruptBody                    // flip the body's byte at offset after
	ignoreRange                    // answer a ranged GET with the whole object
	loseResponse                   // let the server act, then reset before answering
)

// fault is one rule of the proxy: requests matching match get kind, times
// times; after is a byte count; before runs just before the fault strikes.
type fault struct {
	match  func(r *http.Request) bool
	kind   faultKind
	times  int
	after  int64
	before func()
	whole  []byte // ignoreRange: the object
}

// faultProxy forwards to a real server, but for the faults it is given.
type faultProxy struct {
	target *url.URL
	mu     sync.Mutex
	faults []*fault
	struck int
	gets   int // GET requests seen
}

func newFaultProxy(t *testing.T, target string) (*faultProxy, string) {
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := &faultProxy{target: u}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *faultProxy) add(f *fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, f)
}

func (p *faultProxy) strikes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.struck
}

func (p *faultProxy) pick(r *http.Request) *fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Method == http.MethodGet {
		p.gets++
	}
	for _, f := range p.faults {
		if f.times > 0 && f.match(r) {
			f.times--
			p.struck++
			return f
		}
	}
	return nil
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := p.pick(r)
	if f != nil && f.before != nil && f.kind != resetResponse && f.kind != stallBody {
		f.before()
	}
	switch {
	case f == nil:
	case f.kind == slowDown:
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>`)
		return
	case f.kind == resetRequest:
		_, _ = io.CopyN(io.Discard, r.Body, f.after)
		reset(w)
		return
	case f.kind == stallResponse:
		_, _ = io.Copy(io.Discard, r.Body) // so a hang-up cancels r's context
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	}
	out := r.Clone(context.WithoutCancel(r.Context()))
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = p.target.Scheme, p.target.Host
	out.Host = r.Host // the signature covers the host the client saw
	if r.ContentLength == 0 {
		out.Body = nil
	}

	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if f != nil && f.kind == loseResponse {
		_, _ = io.Copy(io.Discard, resp.Body)
		reset(w)
		return
	}
	if f != nil && f.kind == ignoreRange {
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Range")
		w.Header().Set("Content-Length", fmt.Sprint(len(f.whole)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(f.whole)
		return
	}
	if f == nil || f.kind == corruptBody {
		body := io.Reader(resp.Body)
		if f != nil {
			b, _ := io.ReadAll(resp.Body)
			if f.after < int64(len(b)) {
				b[f.after] ^= 0xff
			}
			body = bytes.NewReader(b)
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, body)
		return
	}
	if f.before != nil {
		f.before()
	}
	// Send the head and f.after bytes by hand, then fail.
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %s\r\n", resp.Status)
	_ = resp.Header.Write(buf)
	fmt.Fprintf(buf, "Content-Length: %d\r\n\r\n", resp.ContentLength)
	_, _ = io.CopyN(buf, resp.Body, f.after)
	_ = buf.Flush()
	if f.kind == stallBody {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = conn.Read(make([]byte, 1)) // until the client hangs up
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
}

// reset hijacks the connection and closes it with a TCP reset.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

func isPart(n int) func(r *http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == fmt.Sprint(n)
	}
}

func isMethod(m string) func(r *http.Request) bool {
	return func(r *http.Request) bool { return r.Method == m && r.URL.Query().Get("uploads") == "" }
}

// faultSetup is a MinIO, a proxy in front of it, a client through the
// proxy and a bucket; direct reaches MinIO without faults.
func faultSetup(t *testing.T, edit func(*Options)) (p *faultProxy, b blob.Bucket, direct blob.Bucket, c *Client, name string) {
	testEnv(t)
	ep := emulator.MinIO(t)
	dc := newClient(t, minioOptions(ep))
	direct, name = newBucket(t, dc)
	p, purl := newFaultProxy(t, ep.Endpoint)
	opts := minioOptions(ep)
	opts.Endpoint = purl
	opts.StallTimeout = 500 * time.Millisecond
	if edit != nil {
		edit(&opts)
	}
	c = newClient(t, opts)
	b, err := c.Bucket(name)
	require.NoError(t, err)
	return p, b, direct, dc, name
}

func TestFaultsOnWrite(t *testing.T) {
	data := pattern(12<<20+1, 5) // three parts of 5 MiB
	opts := &blob.WriterOptions{PartSize: MinPartSize, Concurrency: 2}
	tests := []struct {
		name   string
		faults []*fault
		data   []byte
	}{
		{"SlowDown burst on PutObject", []*fault{{match: isMethod(http.MethodPut), kind: slowDown, times: 3}}, []byte("small")},
		{"SlowDown burst on parts", []*fault{{match: isPart(2), kind: slowDown, times: 2}, {match: isPart(3), kind: slowDown, times: 2}}, data},
		{"reset mid-PutObject", []*fault{{match: isMethod(http.MethodPut), kind: resetRequest, after: 100 << 10, times: 2}}, pattern(1<<20, 1)},
		{"reset mid-part", []*fault{{match: isPart(2), kind: resetRequest, after: 1 << 20, times: 2}}, data},
		{"stalled response to a part", []*fault{{match: isPart(1), kind: stallResponse, times: 1}}, data},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, b, direct, c, name := faultSetup(t, nil)
			for _, f := range tt.faults {
				p.add(f)
			}
			require.NoError(t, blob.WriteAll(context.Background(), b, "obj", tt.data, opts))
			require.Positive(t, p.strikes())
			got, err := blob.ReadAll(context.Background(), direct, "obj")
			require.NoError(t, err)
			require.True(t, bytes.Equal(tt.data, got))
			requireNoUploads(t, c, name)
		})
	}
}

func TestFaultsExhaustRetries(t *testing.T) {
	data := pattern(12<<20, 6)
	opts := &blob.WriterOptions{PartSize: MinPartSize, Concurrency: 2}
	tests := []struct {
		name string
		f    *fault
		want error
		code string
	}{
		{"SlowDown forever", &fault{match: isPart(2), kind: slowDown, times: 100}, blob.ErrThrottled, "SlowDown"},
		{"reset forever", &fault{match: isPart(2), kind: resetRequest, after: 1 << 20, times: 100}, blob.ErrInternal, ""},
		{"stall forever", &fault{match: isPart(2), kind: stallResponse, times: 100}, blob.ErrInternal, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, b, direct, c, name := faultSetup(t, func(o *Options) { o.Retry.MaxAttempts = 3 })
			p.add(tt.f)
			start := time.Now()
			err := blob.WriteAll(context.Background(), b, "obj", data, opts)
			require.ErrorIs(t, err, tt.want)
			require.Less(t, time.Since(start), 8*time.Second, "bounded")
			require.Equal(t, 3, p.strikes(), "MaxAttempts attempts")
			if tt.code != "" {
				var be *blob.Error
				require.ErrorAs(t, err, &be)
				require.Equal(t, tt.code, be.Code)
			}
			requireAbsent(t, direct, "obj")
			requireNoUploads(t, c, name)
		})
	}
}

func TestFaultsOnRead(t *testing.T) {
	data := pattern(3<<20, 8)
	isGet := isMethod(http.MethodGet)
	tests := []struct {
		name string
		f    *fault
	}{
		{"reset mid-body twice", &fault{match: isGet, kind: resetResponse, after: 1 << 20, times: 2}},
		{"stall mid-body", &fault{match: isGet, kind: stallBody, after: 512 << 10, times: 1}},
		{"stalled response", &fault{match: isGet, kind: stallResponse, times: 1}},
		{"SlowDown burst", &fault{match: isGet, kind: slowDown, times: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, b, direct, _, _ := faultSetup(t, nil)
			require.NoError(t, blob.WriteAll(context.Background(), direct, "obj", data, nil))
			p.add(tt.f)
			got, err := blob.ReadAll(context.Background(), b, "obj")
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, got))
			require.Positive(t, p.strikes())

			// A range read resumes within its range.
			p.add(&fault{match: isGet, kind: resetResponse, after: 1000, times: 1})
			r, err := b.NewRangeReader(context.Background(), "obj", 100, 5000, nil)
			require.NoError(t, err)
			got, err = io.ReadAll(r)
			require.NoError(t, err)
			require.NoError(t, r.Close())
			require.True(t, bytes.Equal(data[100:5100], got))
		})
	}
	t.Run("object replaced before the resume", func(t *testing.T) {
		p, b, direct, _, _ := faultSetup(t, nil)
		ctx := context.Background()
		require.NoError(t, blob.WriteAll(ctx, direct, "obj", data, nil))
		p.add(&fault{match: isGet, kind: resetResponse, after: 1 << 20, times: 1, before: func() {
			require.NoError(t, blob.WriteAll(ctx, direct, "obj", pattern(3<<20, 99), nil))
		}})
		_, err := blob.ReadAll(ctx, b, "obj")
		require.ErrorIs(t, err, blob.ErrPreconditionFailed, "never stitched from two versions")
	})
	t.Run("canceled read does not resume", func(t *testing.T) {
		p, b, direct, _, _ := faultSetup(t, nil)
		require.NoError(t, blob.WriteAll(context.Background(), direct, "obj", data, nil))
		ctx, cancel := context.WithCancel(context.Background())
		p.add(&fault{match: isGet, kind: stallBody, after: 1 << 20, times: 5})
		r, err := b.NewRangeReader(ctx, "obj", 0, -1, nil)
		require.NoError(t, err)
		_, err = io.ReadFull(r, make([]byte, 1<<20))
		require.NoError(t, err)
		cancel()
		_, err = io.ReadAll(r)
		require.ErrorIs(t, err, blob.ErrCanceled)
		require.NoError(t, r.Close())
		require.Equal(t, 1, p.strikes())
	})
}

func TestIntegrity(t *testing.T) {
	t.Run("a corrupted full read fails its checksum", func(t *testing.T) {
		p, b, direct, _, _ := faultSetup(t, nil)
		ctx := context.Background()
		data := pattern(100_000, 3)
		require.NoError(t, blob.WriteAll(ctx, direct, "obj", data, nil))
		p.add(&fault{match: isMethod(http.MethodGet), kind: corruptBody, after: 5000, times: 1})
		_, err := blob.ReadAll(ctx, b, "obj")
		require.ErrorIs(t, err, blob.ErrInternal)
		require.Contains(t, err.Error(), "checksum mismatch")
		got, err := blob.ReadAll(ctx, b, "obj")
		require.NoError(t, err)
		require.True(t, bytes.Equal(data, got))
	})
	t.Run("bodies are protected", func(t *testing.T) {
		body := []byte("payload")
		tests := []struct {
			endpoint string
			wantHash string
		}{
			{"https://s3.example.com", unsignedPayload},
			{"http://127.0.0.1:9000", "239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5"},
		}
		for _, tt := range tests {
			c := newClient(t, Options{Region: "us-east-1", Endpoint: tt.endpoint, Credentials: minioOptions(&emulator.MinIOServer{AccessKey: "a", SecretKey: "b"}).Credentials})
			pr, err := c.prepare(&Request{Method: http.MethodPut, Bucket: "bkt", Key: "k", Body: body})
			require.NoError(t, err)
			require.Equal(t, tt.wantHash, pr.payloadHash, tt.endpoint)
			require.Equal(t, crc32cBase64(body), pr.header.Get("X-Amz-Checksum-Crc32c"))
			pr, err = c.prepare(&Request{Method: http.MethodGet, Bucket: "bkt", Key: "k"})
			require.NoError(t, err)
			require.Equal(t, emptyPayloadHash, pr.payloadHash)
		}
	})
}

func TestServerIgnoringRange(t *testing.T) {
	p, b, direct, _, _ := faultSetup(t, nil)
	ctx := context.Background()
	data := pattern(50_000, 12)
	require.NoError(t, blob.WriteAll(ctx, direct, "obj", data, nil))
	for _, tt := range []struct{ off, n int64 }{{100, 1000}, {49_000, -1}, {0, 10}} {
		p.add(&fault{match: isMethod(http.MethodGet), kind: ignoreRange, times: 1, whole: data})
		r, err := b.NewRangeReader(ctx, "obj", tt.off, tt.n, nil)
		require.NoError(t, err)
		got, err := io.ReadAll(r)
		require.NoError(t, err)
		require.NoError(t, r.Close())
		end := int64(len(data))
		if tt.n >= 0 {
			end = tt.off + tt.n
		}
		require.True(t, bytes.Equal(data[tt.off:end], got), "range %d+%d", tt.off, tt.n)
		require.Equal(t, int64(len(data)), r.Attrs().Size)
	}
}

func TestLostAnswersToConditionalWrites(t *testing.T) {
	isComplete := func(r *http.Request) bool {
		return r.Method == http.MethodPost && r.URL.Query().Get("uploadId") != ""
	}
	tests := []struct {
		name  string
		match func(r *http.Request) bool
		data  []byte
	}{
		{"PutObject", isMethod(http.MethodPut), []byte("mine")},
		{"CompleteMultipartUpload", isComplete, pattern(11<<20, 4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, b, direct, c, name := faultSetup(t, nil)
			ctx := context.Background()
			p.add(&fault{match: tt.match, kind: loseResponse, times: 1})
			opts := &blob.WriterOptions{IfNotExist: true, PartSize: MinPartSize}
			require.NoError(t, blob.WriteAll(ctx, b, "obj", tt.data, opts), "our own earlier attempt is not a lost race")
			require.Equal(t, 1, p.strikes())
			got, err := blob.ReadAll(ctx, direct, "obj")
			require.NoError(t, err)
			require.True(t, bytes.Equal(tt.data, got))

			// Someone else's object still fails the write, answer lost or not.
			p.add(&fault{match: tt.match, kind: loseResponse, times: 1})
			err = blob.WriteAll(ctx, b, "obj", append([]byte("other "), tt.data...), opts)
			require.ErrorIs(t, err, blob.ErrPreconditionFailed)
			requireNoUploads(t, c, name)
		})
	}
}

func TestSlowConsumerIsNotAStall(t *testing.T) {
	p, b, direct, _, _ := faultSetup(t, nil) // stall timeout 500ms
	ctx := context.Background()
	data := pattern(1<<20, 13)
	require.NoError(t, blob.WriteAll(ctx, direct, "obj", data, nil))
	r, err := b.NewRangeReader(ctx, "obj", 0, -1, nil)
	require.NoError(t, err)
	head := make([]byte, 10)
	_, err = io.ReadFull(r, head)
	require.NoError(t, err)
	time.Sleep(1200 * time.Millisecond) // the caller is busy
	rest, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.True(t, bytes.Equal(data, append(head, rest...)))
	p.mu.Lock()
	defer p.mu.Unlock()
	require.Equal(t, 1, p.gets, "no resume was needed")
}

func TestLostCreateLeavesNoUpload(t *testing.T) {
	isCreate := func(r *http.Request) bool {
		return r.Method == http.MethodPost && r.URL.Query().Has("uploads")
	}
	for _, tt := range []struct {
		name  string
		lose  int // Create answers lost
		fails bool
	}{
		{"one answer lost", 1, false},
		{"every answer lost", 10, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, b, direct, c, name := faultSetup(t, func(o *Options) { o.Retry.MaxAttempts = 3 })
			ctx := context.Background()
			p.add(&fault{match: isCreate, kind: loseResponse, times: tt.lose})
			data := pattern(11<<20, 5)
			err := blob.WriteAll(ctx, b, "obj", data, &blob.WriterOptions{PartSize: MinPartSize})
			if tt.fails {
				require.Error(t, err)
				requireAbsent(t, direct, "obj")
			} else {
				require.NoError(t, err)
				got, err := blob.ReadAll(ctx, direct, "obj")
				require.NoError(t, err)
				require.True(t, bytes.Equal(data, got))
			}
			require.GreaterOrEqual(t, p.strikes(), 1)
			requireNoUploads(t, c, name) // the uploads whose IDs were lost are aborted too
		})
	}
}
