package emulator

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// FakeGCSServer is a running fake-gcs-server, a GCS JSON and XML API
// emulator.
type FakeGCSServer struct {
	// Endpoint is "http://127.0.0.1:PORT". With the Go client, set
	// STORAGE_EMULATOR_HOST to Host, or use
	// option.WithEndpoint(Endpoint+"/storage/v1/").
	Endpoint string
	// Host is "127.0.0.1:PORT".
	Host string
}

// FakeGCS starts fake-gcs-server over http with in-memory storage, creates
// the named buckets, waits until it answers, and stops it when t ends. A
// missing binary fails or skips t as the package doc says.
func FakeGCS(t testing.TB, buckets ...string) *FakeGCSServer {
	t.Helper()
	return fakeGCS(t, "", buckets)
}

// FakeGCSBehind is FakeGCS for a server reached through a proxy at
// publicHost (host:port): the URLs it hands out (a resumable upload's
// Location) name the proxy, so that every request of a client goes
// through it. Endpoint and Host stay the server's own address.
func FakeGCSBehind(t testing.TB, publicHost string, buckets ...string) *FakeGCSServer {
	t.Helper()
	return fakeGCS(t, publicHost, buckets)
}

func fakeGCS(t testing.TB, publicHost string, buckets []string) *FakeGCSServer {
	t.Helper()
	bin := find(t, "fake-gcs-server")
	data := t.TempDir()
	for _, b := range buckets {
		if b == "" || filepath.Base(b) != b {
			t.Fatalf("emulator: bad bucket name %q", b)
		}
		if err := os.Mkdir(filepath.Join(data, b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := port(t)
	s := &FakeGCSServer{Host: fmt.Sprintf("127.0.0.1:%d", p)}
	s.Endpoint = "http://" + s.Host
	if publicHost == "" {
		publicHost = s.Host
	}
	proc := start(t, "fake-gcs-server", bin, fakeGCSArgs(p, publicHost, data), nil)
	proc.waitReady(t, httpReady(loopbackClient, s.Endpoint+"/storage/v1/b", 200))
	return s
}

// fakeGCSArgs is the command line of fake-gcs-server on port p, known to
// clients as publicHost, with its initial buckets in data.
func fakeGCSArgs(p int, publicHost, data string) []string {
	return []string{
		"-scheme", "http", "-host", "127.0.0.1", "-port", fmt.Sprint(p),
		"-backend", "memory", "-data", data,
		"-public-host", publicHost, "-external-url", "http://" + publicHost,
		"-log-level", "warn",
	}
}
