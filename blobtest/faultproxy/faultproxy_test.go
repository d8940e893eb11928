package faultproxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// flipped counts the PUT bodies origin got that differ from the 64 KiB.
var flipped atomic.Int32

// origin answers GET with 64 KiB and PUT by counting the bodies it got
// whole (and in flipped, the ones that were not the 64 KiB sent).
func origin(t *testing.T) (*httptest.Server, []byte, *atomic.Int32) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 4<<10)
	var puts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			got, _ := io.ReadAll(r.Body)
			if int64(len(got)) == r.ContentLength {
				puts.Add(1)
			}
			if !bytes.Equal(got, body) {
				flipped.Add(1)
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("Content-Length", "65536")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, body, &puts
}

func proxy(t *testing.T, target string) *Proxy {
	p, err := New(target, 1)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

func get(t *testing.T, url string) (int, []byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func put(url string, body []byte) (int, error) {
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestEachKindBreaksTheExchangeAsNamed(t *testing.T) {
	srv, body, puts := origin(t)
	p := proxy(t, srv.URL)
	p.StallFor = 50 * time.Millisecond
	// flipped is shared by every origin of the package; count from here
	// (go test -count=N runs this again).
	flippedBefore := flipped.Load()
	flippedPuts := func() int { return int(flipped.Load() - flippedBefore) }

	status, got, err := get(t, p.URL()+"/x")
	require.NoError(t, err)
	require.Equal(t, 200, status)
	require.Equal(t, body, got, "no rule: passes unharmed")

	for _, k := range []Kind{Status500, Status503} {
		p.Add(Rule{Kind: k, Times: 1})
		status, _, err = get(t, p.URL()+"/x")
		require.NoError(t, err)
		require.Equal(t, map[Kind]int{Status500: 500, Status503: 503}[k], status)
	}

	p.Add(Rule{Kind: CutResponse, Times: 1})
	status, got, err = get(t, p.URL()+"/x")
	require.Equal(t, 200, status)
	require.Error(t, err, "a cut body fails the read")
	require.Less(t, len(got), len(body))
	require.Equal(t, body[:len(got)], got)

	p.Add(Rule{Kind: FlipByte, Times: 1})
	_, got, err = get(t, p.URL()+"/x")
	require.NoError(t, err, "a flipped byte is silent on the wire")
	require.Len(t, got, len(body))
	diff := 0
	for i := range got {
		if got[i] != body[i] {
			diff++
		}
	}
	require.Equal(t, 1, diff)

	p.Add(Rule{Kind: ResetResponse, Times: 1, Match: func(r *http.Request) bool { return r.Method == http.MethodPut }})
	_, err = put(p.URL()+"/x", body)
	require.Error(t, err, "the answer is lost")
	require.Equal(t, int32(1), puts.Load(), "but the server got the request")

	p.Add(Rule{Kind: ResetRequest, Times: 1})
	_, err = put(p.URL()+"/x", body)
	require.Error(t, err)
	require.Equal(t, int32(1), puts.Load(), "the server never saw it")

	p.Add(Rule{Kind: FlipRequest, Times: 1})
	_, err = put(p.URL()+"/x", body)
	require.NoError(t, err)
	require.Equal(t, int32(2), puts.Load(), "the server got every byte")
	require.Equal(t, 1, flippedPuts(), "one of them flipped")

	p.Add(Rule{Kind: Stall, Times: 1})
	start := time.Now()
	status, _, err = get(t, p.URL()+"/x")
	require.NoError(t, err)
	require.Equal(t, 200, status)
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)

	require.Equal(t, map[Kind]int{Status500: 1, Status503: 1, CutResponse: 1, FlipByte: 1, ResetResponse: 1, ResetRequest: 1, Stall: 1, FlipRequest: 1}, p.Struck())
	require.Equal(t, 8, p.Total())
	require.Equal(t, 9, p.Requests())
}

func TestRulesCountAndMatch(t *testing.T) {
	srv, _, _ := origin(t)
	p := proxy(t, srv.URL)
	p.Add(Rule{Kind: Status503, Times: 2, Match: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/a") }})
	codes := []int{}
	for _, path := range []string{"/b", "/a", "/a", "/a"} {
		status, _, err := get(t, p.URL()+path)
		require.NoError(t, err)
		codes = append(codes, status)
	}
	require.Equal(t, []int{200, 503, 503, 200}, codes)
	p.Add(Rule{Kind: Status500})
	for range 3 {
		status, _, _ := get(t, p.URL()+"/c")
		require.Equal(t, 500, status, "Times 0 strikes every time")
	}
	p.Clear()
	status, _, _ := get(t, p.URL()+"/c")
	require.Equal(t, 200, status)
}

func TestRandomFaultsAreSeeded(t *testing.T) {
	srv, _, _ := origin(t)
	run := func(seed uint64) []int {
		p, err := New(srv.URL, seed)
		require.NoError(t, err)
		defer p.Close()
		p.Random(0.5, nil, Status500, Status503)
		var codes []int
		for range 40 {
			status, _, err := get(t, p.URL()+"/x")
			require.NoError(t, err)
			codes = append(codes, status)
		}
		return codes
	}
	a, b, c := run(7), run(7), run(8)
	require.Equal(t, a, b, "the same seed, the same faults")
	require.NotEqual(t, a, c)
	faults := 0
	for _, s := range a {
		if s != 200 {
			faults++
		}
	}
	require.InDelta(t, 20, faults, 12, "about half")
}

func TestStallEndsWithTheClient(t *testing.T) {
	srv, _, _ := origin(t)
	p := proxy(t, srv.URL)
	p.StallFor = time.Hour
	p.Add(Rule{Kind: Stall})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL()+"/x", nil)
	start := time.Now()
	_, err := http.DefaultClient.Do(req)
	require.Error(t, err)
	require.Less(t, time.Since(start), 10*time.Second)
}

// A short last part can reach the proxy before the large parts of the
// same upload; a FlipRequest rule for one strike must still corrupt one
// of the large ones, not spend itself on a body too small to touch.
func TestFlipRequestWaitsForABodyItCanHarm(t *testing.T) {
	var got [][]byte
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	p := proxy(t, srv.URL)
	p.MinBody = 1024
	p.Add(Rule{Kind: FlipRequest, Times: 1})
	small := []byte("the last 100 bytes of an upload, or so")
	large := bytes.Repeat([]byte{0x5a}, 4096)
	for _, body := range [][]byte{small, large, large} {
		status, err := put(p.URL()+"/x", body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
	}
	require.Equal(t, map[Kind]int{FlipRequest: 1}, p.Struck())
	require.Equal(t, small, got[0], "too small to touch: passed unharmed")
	require.NotEqual(t, large, got[1], "the strike went to the first body that could take it")
	require.Equal(t, large, got[2], "and only one")
}
