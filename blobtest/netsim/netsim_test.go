package netsim

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func server(t *testing.T, body []byte) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func get(t *testing.T, addr string) ([]byte, time.Duration, error) {
	start := time.Now()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return nil, time.Since(start), err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, time.Since(start), err
}

// TestLinkCapsAndDelays checks the simulator's lower bounds, which no
// machine's speed can break: bytes pass whole and in order, no faster than
// the cap, and no sooner than the round trips the link adds.
func TestLinkCapsAndDelays(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	addr := server(t, body)
	p, err := New(addr, Link{Rate: 4 << 20, RTT: 100 * time.Millisecond})
	require.NoError(t, err)
	defer p.Close()
	got, took, err := get(t, p.Addr())
	require.NoError(t, err)
	require.Equal(t, body, got)
	// 1 MiB at 4 MiB/s is 250 ms; the request and the answer each cross
	// once more (one RTT), and the connection's handshake does not count.
	require.GreaterOrEqual(t, took, 250*time.Millisecond+100*time.Millisecond)
	require.Equal(t, int64(1), p.Connections())
}

func TestDropAfterCutsTheConnection(t *testing.T) {
	body := bytes.Repeat([]byte("z"), 4<<20)
	addr := server(t, body)
	p, err := New(addr, Link{DropAfter: 1 << 20})
	require.NoError(t, err)
	defer p.Close()
	got, _, err := get(t, p.Addr())
	require.Error(t, err, "the body is cut")
	require.Less(t, len(got), len(body))
	require.Equal(t, int64(1), p.Dropped())
}

func TestCloseEndsEverything(t *testing.T) {
	addr := server(t, bytes.Repeat([]byte("y"), 8<<20))
	p, err := New(addr, Link{Rate: 1 << 20})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { _, _, err := get(t, p.Addr()); done <- err }()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, p.Close())
	select {
	case err := <-done:
		require.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("a transfer outlived Close")
	}
}

// A proxy started before its server sends the connections it accepts
// after SetTarget to that server.
func TestSetTargetAfterStart(t *testing.T) {
	p, err := New("127.0.0.1:1", Link{})
	require.NoError(t, err)
	defer p.Close()
	_, _, err = get(t, p.Addr())
	require.Error(t, err, "nothing listens on the first target")
	p.SetTarget(server(t, []byte("now there is")))
	got, _, err := get(t, p.Addr())
	require.NoError(t, err)
	require.Equal(t, "now there is", string(got))
}
