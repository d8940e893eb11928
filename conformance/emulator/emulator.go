// Package emulator starts the storage emulators anyblob's tests run against —
// MinIO (S3), Azurite (Azure Blob) and fake-gcs-server (GCS) — as local
// processes, for our tests and for our users' own.
//
// Each helper starts a fresh server on a free loopback port with its own
// temporary directory, waits until it answers, and stops it (the whole
// process group) when the test ends. Nothing needs Docker or the internet.
//
// # Binaries
//
// The binaries are looked up, in order, in $ANYBLOB_TOOLS/bin, in .tools/bin
// of the working directory or any directory above it (where
// scripts/install-emulators.sh of this repository installs them, pinned),
// and on PATH. Install them with:
//
//	bash scripts/install-emulators.sh
//
// or by hand with the commands InstallHint returns.
//
// # Missing binaries
//
// When a binary is missing, the helper fails the test with the install
// command if the CI or ANYBLOB_REQUIRE_EMULATORS environment variable is set
// (to anything but "" or "false"), and skips it with that command otherwise.
package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Pinned versions, the same as scripts/install-emulators.sh installs.
const (
	MinIOVersion    = "v0.0.0-20260212201848-7aac2a2c5b7c"
	FakeGCSVersion  = "v1.56.1"
	AzuriteVersion  = "3.35.0"
	startupTimeout  = 90 * time.Second
	shutdownTimeout = 10 * time.Second
)

// InstallHint returns the command that installs the named emulator binary
// ("minio", "azurite" or "fake-gcs-server").
func InstallHint(name string) string {
	switch name {
	case "minio":
		return "bash scripts/install-emulators.sh   (or: go install github.com/minio/minio@" + MinIOVersion + ")"
	case "fake-gcs-server":
		return "bash scripts/install-emulators.sh   (or: go install github.com/fsouza/fake-gcs-server@" + FakeGCSVersion + ")"
	case "azurite":
		return "bash scripts/install-emulators.sh   (or: npm install -g azurite@" + AzuriteVersion + ", which provides azurite-blob)"
	}
	return "bash scripts/install-emulators.sh"
}

// required reports whether a missing emulator must fail the test.
func required() bool {
	for _, v := range []string{"CI", "ANYBLOB_REQUIRE_EMULATORS"} {
		s := strings.ToLower(strings.TrimSpace(os.Getenv(v)))
		if s != "" && s != "false" && s != "0" {
			return true
		}
	}
	return false
}

// Find returns the path of the named emulator binary, searching the places
// the package doc lists, or an error that gives the install command.
func Find(name string) (string, error) {
	var dirs []string
	if t := os.Getenv("ANYBLOB_TOOLS"); t != "" {
		dirs = append(dirs, filepath.Join(t, "bin"))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, filepath.Join(d, ".tools", "bin"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	names := []string{name}
	if name == "azurite" {
		names = append(names, "azurite-blob")
	}
	for _, d := range dirs {
		for _, n := range names {
			p := filepath.Join(d, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("emulator %s not found in $ANYBLOB_TOOLS/bin, .tools/bin or PATH; install it with: %s", name, InstallHint(name))
}

// find returns the binary or ends the test: Fatal when emulators are
// required, Skip otherwise.
func find(t testing.TB, name string) string {
	t.Helper()
	p, err := Find(name)
	if err != nil {
		if required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return p
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// process is a started emulator.
type process struct {
	name string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
	err  error // set before done is closed
}

// syncBuffer keeps the last bytes of a process's output for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.buf.Len() > 64<<10 {
		tail := append([]byte(nil), b.buf.Bytes()[b.buf.Len()-32<<10:]...)
		b.buf.Reset()
		b.buf.Write(tail)
	}
	return len(p), nil
}

func (b *syncBuffer) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > 4000 {
		s = "..." + s[len(s)-4000:]
	}
	return s
}

// start runs bin with args and env in its own process group and registers
// its stop with t.Cleanup.
func start(t testing.TB, name, bin string, args, env []string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &process{name: name, cmd: cmd, log: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.log
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("emulator %s: start %s: %v", name, bin, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	return p
}

// stop sends SIGTERM to the process group, and SIGKILL if it is still there
// after shutdownTimeout.
func (p *process) stop() {
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(shutdownTimeout):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
	// Children that outlived the leader.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
}

// waitReady polls ready until it returns nil, the process exits or the
// startup timeout passes; then it fails the test with the process's output.
func (p *process) waitReady(t testing.TB, ready func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startupTimeout)
	defer cancel()
	var last error
	for {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		last = ready(rctx)
		rcancel()
		if last == nil {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("emulator %s exited before it answered (%v); its output:\n%s", p.name, p.err, p.log.tail())
		case <-ctx.Done():
			t.Fatalf("emulator %s did not answer within %v (last: %v); its output:\n%s", p.name, startupTimeout, last, p.log.tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// httpReady returns a readiness check that GETs url and accepts the
// statuses given (any status when none are).
func httpReady(client *http.Client, url string, statuses ...int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if len(statuses) == 0 {
			return nil
		}
		for _, s := range statuses {
			if resp.StatusCode == s {
				return nil
			}
		}
		return errors.New("status " + strconv.Itoa(resp.StatusCode))
	}
}

// loopbackClient talks to the emulators without any proxy from the
// environment.
var loopbackClient = &http.Client{
	Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	Timeout:   5 * time.Second,
}

// port returns a free loopback port or ends the test.
func port(t testing.TB) int {
	t.Helper()
	p, err := FreePort()
	if err != nil {
		t.Fatalf("emulator: no free loopback port: %v", err)
	}
	return p
}
