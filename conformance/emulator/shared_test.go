package emulator

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSharedEmulatorsStartOnce starts each shared emulator in a run folder
// of its own, and requires that asking again, in this binary or (with the
// in-process cache cleared, as a new test binary would be) from the record
// in the run folder, finds the same server; StopShared then stops it. It
// logs the start and reuse times.
func TestSharedEmulatorsStartOnce(t *testing.T) {
	run := t.TempDir()
	t.Setenv("ANYBLOB_EMULATOR_RUN", run)
	sharedMu.Lock()
	clear(sharedCache)
	sharedMu.Unlock()
	t.Cleanup(func() {
		_, err := StopShared()
		require.NoError(t, err)
	})
	for _, tt := range []struct {
		name  string
		start func(t testing.TB) string
	}{
		{"minio", func(t testing.TB) string { return SharedMinIO(t).Endpoint }},
		{"azurite", func(t testing.TB) string { return SharedAzurite(t).BlobEndpoint }},
		{"fake-gcs-server", func(t testing.TB) string { return SharedFakeGCS(t).Endpoint }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			first := tt.start(t)
			cold := time.Since(start)
			start = time.Now()
			require.Equal(t, first, tt.start(t), "the same server in this binary")
			warm := time.Since(start)

			sharedMu.Lock()
			delete(sharedCache, tt.name)
			sharedMu.Unlock()
			start = time.Now()
			require.Equal(t, first, tt.start(t), "the same server for the next binary, from the record")
			found := time.Since(start)
			t.Logf("%s: started in %v, then %v in this binary, %v from the record", tt.name, cold.Round(time.Millisecond), warm, found.Round(time.Millisecond))

			b, err := os.ReadFile(filepath.Join(run, tt.name+".json"))
			require.NoError(t, err)
			var rec sharedRecord
			require.NoError(t, json.Unmarshal(b, &rec))
			require.True(t, alive(rec.PID))
		})
	}
	stopped, err := StopShared()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"minio", "azurite", "fake-gcs-server"}, stopped)
	entries, err := os.ReadDir(run)
	require.NoError(t, err)
	for _, e := range entries {
		require.NotEqual(t, ".json", filepath.Ext(e.Name()), "records removed")
	}
}

// BenchmarkSharedStart measures a cold start of each shared emulator (the
// harness's startup when nothing is running), and finding it again from
// its record (when an earlier test binary started it):
//
//	go test ./conformance/emulator -run '^$' -bench SharedStart -benchtime 3x
func BenchmarkSharedStart(b *testing.B) {
	for _, tt := range []struct {
		name  string
		start func(t testing.TB)
	}{
		{"minio", func(t testing.TB) { SharedMinIO(t) }},
		{"azurite", func(t testing.TB) { SharedAzurite(t) }},
		{"fake-gcs-server", func(t testing.TB) { SharedFakeGCS(t) }},
	} {
		b.Run(tt.name+"/cold", func(b *testing.B) {
			b.Setenv("ANYBLOB_EMULATOR_RUN", b.TempDir())
			for b.Loop() {
				tt.start(b)
				b.StopTimer()
				_, err := StopShared()
				require.NoError(b, err)
				b.StartTimer()
			}
		})
		b.Run(tt.name+"/found", func(b *testing.B) {
			b.Setenv("ANYBLOB_EMULATOR_RUN", b.TempDir())
			tt.start(b)
			b.Cleanup(func() { _, _ = StopShared() })
			for b.Loop() {
				sharedMu.Lock()
				clear(sharedCache)
				sharedMu.Unlock()
				tt.start(b)
			}
		})
	}
}
