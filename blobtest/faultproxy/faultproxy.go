// Package faultproxy is a seeded, fault-injecting HTTP proxy for tests: it
// stands between a client and a real server (an emulator, or a cloud
// endpoint over http) and breaks the exchange the ways networks and
// services do: error statuses, connections
// reset before or in the middle of a request or response body, bodies cut
// short, flipped bytes, answers lost after the server acted, stalls.
//
// Faults are chosen by rules (a kind, which requests, how many times) or at
// random with a seed, so a failing run can be replayed. Every fault struck
// is counted by kind. The proxy listens on 127.0.0.1 only.
//
// It is the proxy anyblob's own fault tests and soak test use. Point any
// driver at it through its endpoint option:
//
//	p, _ := faultproxy.New(minio.Endpoint, 1)
//	defer p.Close()
//	p.Add(faultproxy.Rule{Kind: faultproxy.Status503, Times: 2})
//	c, _ := aws.New(ctx, aws.Options{Endpoint: p.URL(), ...})
//
// For Azure, the service URL is p.URL()+"/"+account; for fake-gcs-server,
// the endpoint is p.URL()+"/storage/v1/" with TargetHost set. To fail
// calls without HTTP, see blobtest.Faults.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Kind is one way to break an exchange.
type Kind int

// The kinds of fault.
const (
	// Status500 answers 500 Internal Server Error without forwarding.
	Status500 Kind = iota + 1
	// Status503 answers 503 Service Unavailable without forwarding.
	Status503
	// ResetRequest reads part of the request body (or none), then resets
	// the connection: the server never sees the request.
	ResetRequest
	// ResetResponse forwards the request, then resets the connection
	// before any answer: the server acted, the client does not know.
	ResetResponse
	// CutResponse sends the status, headers and half the body, then
	// resets the connection.
	CutResponse
	// FlipByte flips one bit of one byte of the response body and sends it
	// whole, as a corruption TCP did not catch.
	FlipByte
	// Stall waits Proxy.StallFor before forwarding.
	Stall
	// FlipRequest flips one bit of one byte of the request body before
	// forwarding it: an upload corrupted on the way.
	FlipRequest
)

var kindNames = map[Kind]string{
	Status500: "500", Status503: "503", ResetRequest: "reset-request", ResetResponse: "reset-response",
	CutResponse: "cut-response", FlipByte: "flip-byte", Stall: "stall", FlipRequest: "flip-request",
}

func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Kinds lists every kind.
var Kinds = []Kind{Status500, Status503, ResetRequest, ResetResponse, CutResponse, FlipByte, Stall, FlipRequest}

// Rule strikes Kind on the requests Match accepts.
type Rule struct {
	Kind Kind
	// Match selects requests; nil matches every request.
	Match func(r *http.Request) bool
	// Times is how many requests the rule strikes; 0 means every one. A
	// FlipRequest rule passes over requests whose declared body is
	// smaller than Proxy.MinBody (they could not be harmed) without
	// spending a strike, so that Times: 1 does corrupt one upload even
	// when a short last part races ahead of the others.
	Times int
}

// Proxy forwards to one server and injects faults. Its methods are safe for
// concurrent use.
type Proxy struct {
	// StallFor is how long a Stall waits; set it before use. 0 means 2s.
	StallFor time.Duration
	// MinBody is the smallest body FlipByte and CutResponse (response)
	// and FlipRequest (request) touch; smaller bodies pass unharmed. 0
	// means 1.
	MinBody int
	// TargetHost sends the target's host in the Host header instead of the
	// client's (the proxy's). Leave it false for servers that check a
	// signature over Host (S3); set it for servers that route by Host
	// (fake-gcs-server).
	TargetHost bool
	// OnRequest, when set, sees every request before a fault is chosen
	// (to count or log them); it must not read the body.
	OnRequest func(r *http.Request)
	// OnDone, when set, sees every request again once the proxy has
	// answered it (whatever the answer, fault or not): with OnRequest, it
	// tells how many requests are in flight at once.
	OnDone func(r *http.Request)

	target *url.URL
	srv    *http.Server
	ln     net.Listener
	tr     *http.Transport

	mu      sync.Mutex
	rules   []*rule
	rng     *rand.Rand
	rate    float64
	kinds   []Kind
	filter  func(r *http.Request, k Kind) bool
	struck  map[Kind]int
	total   int
	handled int
}

type rule struct {
	Rule
	left int // strikes left; -1 without limit
}

// New starts a proxy on 127.0.0.1 in front of target (a base URL such as
// "http://127.0.0.1:9000"); seed makes random faults repeatable. Close
// stops it.
func New(target string, seed uint64) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %q is not a URL with a host", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p := &Proxy{
		target: &url.URL{Scheme: u.Scheme, Host: u.Host},
		ln:     ln,
		tr:     &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true, Proxy: nil},
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		struck: map[Kind]int{},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln) //nolint:errcheck // ends with Close
	return p, nil
}

// URL is the proxy's base URL, "http://127.0.0.1:PORT".
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() error {
	err := p.srv.Close()
	p.tr.CloseIdleConnections()
	return err
}

// Add adds a rule; rules are tried in the order they were added, before
// random faults.
func (p *Proxy) Add(r Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	left := r.Times
	if left == 0 {
		left = -1
	}
	p.rules = append(p.rules, &rule{Rule: r, left: left})
}

// Random strikes one of kinds (all when none is given) on a fraction rate
// of the requests, drawn from the seed; filter (nil: all) may refuse the
// kind drawn for a request, which then passes unharmed. A rate of 0 stops
// random faults.
func (p *Proxy) Random(rate float64, filter func(r *http.Request, k Kind) bool, kinds ...Kind) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(kinds) == 0 {
		kinds = Kinds
	}
	p.rate, p.filter, p.kinds = rate, filter, kinds
}

// Clear removes every rule and stops random faults; counts stay.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.rate = nil, 0
}

// Struck returns how many faults of each kind were injected so far.
func (p *Proxy) Struck() map[Kind]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Kind]int, len(p.struck))
	for k, n := range p.struck {
		out[k] = n
	}
	return out
}

// Total is how many faults were injected so far; Requests how many
// requests the proxy handled.
func (p *Proxy) Total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// Requests is how many requests the proxy has handled.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.handled
}

// pick decides the fault for r, or 0 for none, and counts it.
func (p *Proxy) pick(r *http.Request) Kind {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handled++
	var k Kind
	for _, ru := range p.rules {
		if ru.Kind == FlipRequest && r.ContentLength >= 0 && r.ContentLength < int64(max(p.MinBody, 1)) {
			continue // nothing to flip: leave the strike for a body that can take it
		}
		if ru.left != 0 && (ru.Match == nil || ru.Match(r)) {
			if ru.left > 0 {
				ru.left--
			}
			k = ru.Kind
			break
		}
	}
	if k == 0 && p.rate > 0 && p.rng.Float64() < p.rate {
		k = p.kinds[p.rng.IntN(len(p.kinds))]
		if p.filter != nil && !p.filter(r, k) {
			k = 0
		}
	}
	return k
}

func (p *Proxy) count(k Kind) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.struck[k]++
	p.total++
}

func (p *Proxy) intn(n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.IntN(n)
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.OnRequest != nil {
		p.OnRequest(r)
	}
	if p.OnDone != nil {
		defer p.OnDone(r)
	}
	k := p.pick(r)
	switch k {
	case Status500, Status503:
		p.count(k)
		io.Copy(io.Discard, r.Body) //nolint:errcheck // the answer does not depend on it
		status := http.StatusInternalServerError
		if k == Status503 {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(status)
		fmt.Fprintf(w, "fault injected by the test proxy: %d\n", status)
		return
	case ResetRequest:
		p.count(k)
		if r.ContentLength > 0 {
			io.CopyN(io.Discard, r.Body, r.ContentLength/2) //nolint:errcheck // cut anyway
		}
		reset(w)
		return
	case Stall:
		p.count(k)
		d := p.StallFor
		if d == 0 {
			d = 2 * time.Second
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if k == FlipRequest && r.ContentLength >= 0 && r.ContentLength < int64(max(p.MinBody, 1)) {
		k = 0 // too small to touch: passes unharmed
	}
	if k == FlipRequest {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			reset(w)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if len(body) >= max(p.MinBody, 1) {
			// In the middle half, away from the framing of a multipart
			// body, so that it is the content that arrives changed.
			p.count(k)
			body[len(body)/4+p.intn(max(len(body)/2, 1))] ^= 1 << p.intn(8)
		}
	}
	resp, err := p.forward(r)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	minBody := max(p.MinBody, 1)
	switch {
	case k == ResetResponse:
		p.count(k)
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // the server has acted; the answer is lost
		reset(w)
		return
	case (k == CutResponse || k == FlipByte) && resp.ContentLength >= int64(minBody) && r.Method != http.MethodHead:
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			reset(w)
			return
		}
		p.count(k)
		p.copyResponseHeader(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		if k == CutResponse {
			w.Write(body[:len(body)/2])           //nolint:errcheck // the cut follows
			http.NewResponseController(w).Flush() //nolint:errcheck // best effort
			reset(w)
			return
		}
		i := p.intn(len(body))
		body[i] ^= 1 << p.intn(8)
		w.Write(body) //nolint:errcheck // the client sees what it sees
		return
	}
	p.copyResponseHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body) //nolint:errcheck // a client gone is not the proxy's fault
}

// forward sends r to the target and returns the answer.
func (p *Proxy) forward(r *http.Request) (*http.Response, error) {
	u := *r.URL
	u.Scheme, u.Host = p.target.Scheme, p.target.Host
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), r.Body)
	if err != nil {
		return nil, err
	}
	copyHeader(out.Header, r.Header)
	out.Host = r.Host
	if p.TargetHost {
		out.Host = p.target.Host
	}
	out.ContentLength = r.ContentLength
	if r.ContentLength == 0 {
		out.Body = http.NoBody
	}
	out.TransferEncoding = r.TransferEncoding
	return p.tr.RoundTrip(out)
}

// copyResponseHeader copies h into dst like copyHeader, with a Location
// that points at the target (a resumable upload's session URL) pointed at
// the proxy instead, so the rest of the exchange goes through it too.
func (p *Proxy) copyResponseHeader(dst, h http.Header) {
	copyHeader(dst, h)
	if loc := dst.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil && u.Host == p.target.Host {
			u.Scheme, u.Host = "http", p.ln.Addr().String()
			dst.Set("Location", u.String())
		}
	}
}

// copyHeader copies h into dst, without hop-by-hop headers.
func copyHeader(dst, h http.Header) {
	for k, vs := range h {
		switch strings.ToLower(k) {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer":
			continue
		}
		dst[k] = append([]string(nil), vs...)
	}
}

// reset closes the client's connection with a TCP reset.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // net/http closes the connection
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) //nolint:errcheck // a plain close is a fault too
	}
	conn.Close()
}
