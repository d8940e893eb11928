// Package netsim makes a server on loopback look far away: a TCP proxy
// that gives every connection a bandwidth cap in each direction, adds
// round-trip time, and can cut connections. Put it in front of MinIO,
// Azurite or fake-gcs-server to measure (and test) transfers as they go
// over a real network, where one connection carries far less than
// loopback does and every request pays a round trip.
//
//	p, err := netsim.New("127.0.0.1:9000", netsim.Link{Rate: 40 << 20, RTT: 20 * time.Millisecond})
//	endpoint := "http://" + p.Addr()
//
// The model, per connection and direction: bytes read from one side are
// delivered to the other RTT/2 later, at no more than Rate bytes per
// second; at most about Window bytes are in flight (read and not yet
// delivered), so a sender is held back as TCP's window would hold it.
package netsim

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Link describes the simulated network between the proxy's clients and
// its target. The zero value is loopback: no cap, no delay.
type Link struct {
	// Rate is the most bytes per second one connection carries in each
	// direction; 0 means no cap.
	Rate int64
	// RTT is the round-trip time added: each direction delays its bytes
	// by RTT/2.
	RTT time.Duration
	// Window is the most bytes in flight per direction; 0 means the
	// bandwidth-delay product (Rate × RTT/2) plus 256 KiB.
	Window int64
	// DropAfter, when above 0, cuts every connection once it has carried
	// this many bytes (both directions together): a connection lost
	// mid-transfer.
	DropAfter int64
}

// Proxy is a running simulator. Close stops it and cuts its connections.
type Proxy struct {
	ln     net.Listener
	target string
	link   Link

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
	wg    sync.WaitGroup

	accepted atomic.Int64
	dropped  atomic.Int64
}

// New starts a proxy on 127.0.0.1 (a free port) to target (host:port)
// over link. Its error is the listener's.
func New(target string, link Link) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, link: link, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// SetTarget sends the connections accepted from now on to target
// (host:port): for a server that must be told the proxy's address before
// it starts (fake-gcs-server's -public-host), start the proxy first.
func (p *Proxy) SetTarget(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Connections is how many client connections the proxy accepted; Dropped
// how many it cut (Link.DropAfter).
func (p *Proxy) Connections() int64 { return p.accepted.Load() }

// Dropped is how many connections the proxy cut on purpose.
func (p *Proxy) Dropped() int64 { return p.dropped.Load() }

// Close stops accepting, cuts every connection and waits for them.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.done = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		p.wg.Add(1)
		go p.handle(c)
	}
}

func (p *Proxy) handle(client net.Conn) {
	defer p.wg.Done()
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	server, err := net.Dial("tcp", target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client) || !p.track(server) {
		client.Close()
		server.Close()
		return
	}
	defer p.untrack(client)
	defer p.untrack(server)
	var carried atomic.Int64
	var once sync.Once
	cut := func() { once.Do(func() { client.Close(); server.Close() }) }
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pump(server, client, &carried, cut) }()
	go func() { defer wg.Done(); p.pump(client, server, &carried, cut) }()
	wg.Wait()
	cut()
}

// chunk is bytes read at a time, on their way.
type chunk struct {
	b  []byte
	at time.Time
}

const chunkSize = 32 << 10

// chunks recycles the proxy's buffers, so that a benchmark measuring its
// client's heap is not measuring the proxy's garbage.
var chunks = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// pump moves src's bytes to dst as the link allows; when src ends it
// closes dst's write side, so a half-close passes through.
func (p *Proxy) pump(dst, src net.Conn, carried *atomic.Int64, cut func()) {
	window := p.link.Window
	if window <= 0 {
		window = p.link.Rate*int64(p.link.RTT/2)/int64(time.Second) + 256<<10
	}
	credit := make(chan struct{}, max(1, int(window/chunkSize)))
	queue := make(chan chunk, cap(credit))
	go func() {
		defer close(queue)
		for {
			credit <- struct{}{}
			bp := chunks.Get().(*[]byte)
			n, err := src.Read(*bp)
			if n > 0 {
				queue <- chunk{b: (*bp)[:n], at: time.Now()}
			} else {
				chunks.Put(bp)
				<-credit
			}
			if err != nil {
				return
			}
		}
	}()
	delay := p.link.RTT / 2
	next := time.Now()
	for c := range queue {
		if wait := time.Until(c.at.Add(delay)); wait > 0 {
			time.Sleep(wait)
		}
		if now := time.Now(); next.Before(now) {
			next = now
		}
		_, err := dst.Write(c.b)
		n := len(c.b)
		b := c.b[:cap(c.b)]
		chunks.Put(&b)
		if err != nil {
			cut()
			drain(queue, credit)
			return
		}
		<-credit
		if p.link.Rate > 0 {
			next = next.Add(time.Duration(int64(n) * int64(time.Second) / p.link.Rate))
			time.Sleep(time.Until(next))
		}
		if p.link.DropAfter > 0 && carried.Add(int64(n)) >= p.link.DropAfter {
			p.dropped.Add(1)
			cut()
			drain(queue, credit)
			return
		}
	}
	if tc, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
}

func drain(q chan chunk, credit chan struct{}) {
	for range q {
		select {
		case <-credit:
		default:
		}
	}
}

var _ io.Closer = (*Proxy)(nil)
