package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// Shared emulators: SharedMinIO, SharedAzurite and SharedFakeGCS start an
// emulator once and hand the same one to every test that asks, in this
// test binary and in the ones that come after it (go test ./... runs one
// binary per package). A started emulator is recorded in the run folder
// (RunDir) with its process ID and address, under a lock, so that
// concurrent test binaries start it once between them; it keeps running
// after the tests, to be found again by the next run, until StopShared (or
// scripts/emulators.sh stop) stops it. Each test must use a bucket or
// container of its own (blobtest does this), since the server is shared.
//
// A recorded emulator that no longer answers (its process gone, the
// machine restarted) is started afresh.

// RunDir is the folder where shared emulators are recorded:
// $ANYBLOB_EMULATOR_RUN when set, else "run" beside the bin folder the
// binaries are found in ($ANYBLOB_TOOLS/run, .tools/run), else
// anyblob-emulators-UID in the system's temporary folder.
func RunDir() string {
	if d := os.Getenv("ANYBLOB_EMULATOR_RUN"); d != "" {
		_ = os.MkdirAll(d, 0o755)
		return d
	}
	if bin, err := Find("minio"); err == nil {
		d := filepath.Join(filepath.Dir(filepath.Dir(bin)), "run")
		if os.MkdirAll(d, 0o755) == nil {
			return d
		}
	}
	d := filepath.Join(os.TempDir(), "anyblob-emulators-"+strconv.Itoa(os.Getuid()))
	_ = os.MkdirAll(d, 0o700)
	return d
}

// sharedRecord is what the run folder holds for one shared emulator.
type sharedRecord struct {
	PID     int             `json:"pid"`
	Version string          `json:"version"`
	Started time.Time       `json:"started"`
	Server  json.RawMessage `json:"server"`
}

// sharedSpec says how to start one emulator for sharing.
type sharedSpec struct {
	name    string // the binary, and the record's name
	version string
	// launch returns the server a start on port with data in dir will be,
	// and the command's arguments and environment.
	launch func(port int, dir string) (server any, args, env []string)
	// ready checks that server answers.
	ready func(server json.RawMessage) func(ctx context.Context) error
}

var (
	sharedMu     sync.Mutex
	sharedCache  = map[string]json.RawMessage{}
	sharedStarts int
)

// SharedStarts is how many shared emulators this process has started (not
// found running): at most one each, however many tests ask.
func SharedStarts() int {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	return sharedStarts
}

// shared returns the running shared emulator of spec, decoded into out,
// starting it when none answers; it fails or skips t as the package doc
// says when the binary is missing, and fails t when it cannot start.
func shared(t testing.TB, spec sharedSpec, out any) {
	t.Helper()
	if _, err := Find(spec.name); err != nil {
		find(t, spec.name) // fails or skips t
	}
	if err := getShared(spec, out); err != nil {
		t.Fatal(err)
	}
}

// getShared is shared without a test: the binary missing is an error
// giving the install command.
func getShared(spec sharedSpec, out any) error {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	raw, ok := sharedCache[spec.name]
	if !ok {
		bin, err := Find(spec.name)
		if err != nil {
			return err
		}
		raw, err = sharedStart(spec, bin)
		if err != nil {
			return err
		}
		sharedCache[spec.name] = raw
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("emulator %s: bad record: %w", spec.name, err)
	}
	return nil
}

// sharedStart finds the recorded emulator or starts one, under the run
// folder's lock for spec.
func sharedStart(spec sharedSpec, bin string) (json.RawMessage, error) {
	dir := RunDir()
	lock, err := os.OpenFile(filepath.Join(dir, spec.name+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("emulator %s: %w", spec.name, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("emulator %s: lock %s: %w", spec.name, lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing unlocks too

	recPath := filepath.Join(dir, spec.name+".json")
	if rec, err := readRecord(recPath); err == nil && rec.Version == spec.version && alive(rec.PID) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := spec.ready(rec.Server)(ctx)
		cancel()
		if err == nil {
			return rec.Server, nil
		}
		stopGroup(rec.PID) // there, but not answering
	}

	p, err := FreePort()
	if err != nil {
		return nil, fmt.Errorf("emulator %s: no free loopback port: %w", spec.name, err)
	}
	data := filepath.Join(dir, spec.name+"-data")
	if err := os.RemoveAll(data); err != nil {
		return nil, fmt.Errorf("emulator %s: %w", spec.name, err)
	}
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, fmt.Errorf("emulator %s: %w", spec.name, err)
	}
	server, args, env := spec.launch(p, data)
	raw, err := json.Marshal(server)
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, spec.name+".log"))
	if err != nil {
		return nil, fmt.Errorf("emulator %s: %w", spec.name, err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	// Its own process group, so that it outlives this test binary and is
	// stopped whole.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("emulator %s: start %s: %w", spec.name, bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := waitUp(spec.ready(raw), exited); err != nil {
		stopGroup(cmd.Process.Pid)
		out, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("emulator %s: %w; its output:\n%s", spec.name, err, tail(string(out)))
	}
	sharedStarts++
	rec, _ := json.MarshalIndent(sharedRecord{PID: cmd.Process.Pid, Version: spec.version, Started: time.Now().UTC(), Server: raw}, "", "  ")
	if err := os.WriteFile(recPath, rec, 0o644); err != nil {
		stopGroup(cmd.Process.Pid)
		return nil, fmt.Errorf("emulator %s: %w", spec.name, err)
	}
	return raw, nil
}

// waitUp polls ready until it answers, the process exits or the startup
// timeout passes.
func waitUp(ready func(ctx context.Context) error, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), startupTimeout)
	defer cancel()
	for {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		last := ready(rctx)
		rcancel()
		if last == nil {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before it answered (%v)", err)
		case <-ctx.Done():
			return fmt.Errorf("did not answer within %v (last: %v)", startupTimeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

func readRecord(path string) (sharedRecord, error) {
	var rec sharedRecord
	b, err := os.ReadFile(path)
	if err != nil {
		return rec, err
	}
	err = json.Unmarshal(b, &rec)
	return rec, err
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// stopGroup stops process group pid: SIGTERM, then SIGKILL after
// shutdownTimeout.
func stopGroup(pid int) {
	if pid <= 0 {
		return
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(shutdownTimeout)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// StopShared stops every shared emulator recorded in RunDir and removes
// the records and their data. It returns the names it stopped. Errors are
// the run folder's (a record that cannot be read is removed).
func StopShared() ([]string, error) {
	dir := RunDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var stopped []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		if rec, err := readRecord(filepath.Join(dir, e.Name())); err == nil && alive(rec.PID) {
			stopGroup(rec.PID)
			stopped = append(stopped, name)
		}
		_ = os.Remove(filepath.Join(dir, e.Name()))
		_ = os.RemoveAll(filepath.Join(dir, name+"-data"))
	}
	sharedMu.Lock()
	clear(sharedCache)
	sharedMu.Unlock()
	return stopped, nil
}

// SharedMinIO returns the shared MinIO server (see the section above),
// starting it if none answers. Use a bucket of your own in it.
func SharedMinIO(t testing.TB) *MinIOServer {
	t.Helper()
	var s MinIOServer
	shared(t, minioSpec, &s)
	return &s
}

// StartSharedMinIO is SharedMinIO outside a test: a missing binary is an
// error giving the install command.
func StartSharedMinIO() (*MinIOServer, error) {
	var s MinIOServer
	return &s, getShared(minioSpec, &s)
}

var minioSpec = sharedSpec{name: "minio", version: MinIOVersion, launch: func(p int, dir string) (any, []string, []string) {
	s := &MinIOServer{AccessKey: "anyblob-test", SecretKey: "anyblob-test-secret-key", Region: "us-east-1", Dir: dir,
		Endpoint: fmt.Sprintf("http://127.0.0.1:%d", p)}
	args, env := minioCommand(s, p)
	return s, args, env
}, ready: func(raw json.RawMessage) func(ctx context.Context) error {
	var s MinIOServer
	_ = json.Unmarshal(raw, &s)
	return minioReady(loopbackClient, &s)
}}

// SharedAzurite returns the shared Azurite blob service (shared-key
// authentication over http), starting it if none answers. Use a
// container of your own in it.
func SharedAzurite(t testing.TB) *AzuriteServer {
	t.Helper()
	var s AzuriteServer
	shared(t, azuriteSpec, &s)
	return &s
}

// StartSharedAzurite is SharedAzurite outside a test: a missing binary is
// an error giving the install command.
func StartSharedAzurite() (*AzuriteServer, error) {
	var s AzuriteServer
	return &s, getShared(azuriteSpec, &s)
}

var azuriteSpec = sharedSpec{name: "azurite", version: AzuriteVersion, launch: func(p int, dir string) (any, []string, []string) {
	s, args := azuriteCommand(&AzuriteOptions{}, p, dir)
	return s, args, nil
}, ready: func(raw json.RawMessage) func(ctx context.Context) error {
	var s AzuriteServer
	_ = json.Unmarshal(raw, &s)
	return httpReady(loopbackClient, s.BlobEndpoint+"?comp=list")
}}

// SharedFakeGCS returns the shared fake-gcs-server, starting it if none
// answers. It starts with no bucket: create one of your own.
func SharedFakeGCS(t testing.TB) *FakeGCSServer {
	t.Helper()
	var s FakeGCSServer
	shared(t, fakeGCSSpec, &s)
	return &s
}

// StartSharedFakeGCS is SharedFakeGCS outside a test: a missing binary is
// an error giving the install command.
func StartSharedFakeGCS() (*FakeGCSServer, error) {
	var s FakeGCSServer
	return &s, getShared(fakeGCSSpec, &s)
}

var fakeGCSSpec = sharedSpec{name: "fake-gcs-server", version: FakeGCSVersion, launch: func(p int, dir string) (any, []string, []string) {
	s := &FakeGCSServer{Host: fmt.Sprintf("127.0.0.1:%d", p)}
	s.Endpoint = "http://" + s.Host
	return s, fakeGCSArgs(p, s.Host, dir), nil
}, ready: func(raw json.RawMessage) func(ctx context.Context) error {
	var s FakeGCSServer
	_ = json.Unmarshal(raw, &s)
	return httpReady(loopbackClient, s.Endpoint+"/storage/v1/b", 200)
}}
