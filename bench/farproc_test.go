package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anyblob/anyblob/blobtest/netsim"
)

// farLinkEnv, set in a child of the benchmark binary, makes it a
// simulated link instead of a benchmark run (see TestMain).
const farLinkEnv = "ANYBLOB_BENCH_LINK"

// TestMain runs the benchmarks, or, in a child started by startLink, a
// simulated link: "RATE,RTT" in farLinkEnv. It prints the proxy's address,
// then takes "target HOST:PORT" lines on stdin, and exits when stdin ends.
func TestMain(m *testing.M) {
	if spec := os.Getenv(farLinkEnv); spec != "" {
		os.Exit(serveLink(spec))
	}
	os.Exit(m.Run())
}

func serveLink(spec string) int {
	rate, rtt, ok := strings.Cut(spec, ",")
	r, err1 := strconv.ParseInt(rate, 10, 64)
	d, err2 := time.ParseDuration(rtt)
	if !ok || err1 != nil || err2 != nil {
		fmt.Fprintf(os.Stderr, "%s: want RATE,RTT (bytes per second, a duration), got %q\n", farLinkEnv, spec)
		return 2
	}
	p, err := netsim.New("", netsim.Link{Rate: r, RTT: d})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer p.Close()
	fmt.Println(p.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if t, ok := strings.CutPrefix(in.Text(), "target "); ok {
			p.SetTarget(t)
			fmt.Println("ok")
		}
	}
	return 0
}

// link is a simulated link in a process of its own, so that its queues
// (up to a window per connection and direction) and its CPU are not
// counted as the client's: the peak memory the far benchmarks report is
// the client's alone.
type link struct {
	addr string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
}

// startLink starts l in a child process, to target (host:port, or "" to
// set later with SetTarget); it stops when b ends.
func startLink(b *testing.B, target string, l netsim.Link) *link {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%s", farLinkEnv, l.Rate, l.RTT))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &link{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	b.Cleanup(p.Close)
	if !p.out.Scan() {
		b.Fatalf("simulated link: no address (%v)", p.out.Err())
	}
	p.addr = p.out.Text()
	if target != "" {
		p.SetTarget(b, target)
	}
	return p
}

// Addr is the link's host:port.
func (p *link) Addr() string { return p.addr }

// SetTarget sends the connections accepted from now on to target.
func (p *link) SetTarget(b *testing.B, target string) {
	fmt.Fprintf(p.in, "target %s\n", target)
	if !p.out.Scan() || p.out.Text() != "ok" {
		b.Fatalf("simulated link: target %s not taken", target)
	}
}

// Close stops the link and its connections.
func (p *link) Close() {
	if p.in != nil {
		p.in.Close()
		p.cmd.Wait()
		p.in = nil
	}
}
