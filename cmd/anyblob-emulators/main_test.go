package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEnvStatusStop(t *testing.T) {
	t.Setenv("ANYBLOB_EMULATOR_RUN", t.TempDir())
	var out, errOut bytes.Buffer
	require.Equal(t, 0, run([]string{"env", "fake-gcs-server"}, &out, &errOut), errOut.String())
	require.Contains(t, out.String(), "export STORAGE_EMULATOR_HOST='127.0.0.1:")

	out.Reset()
	require.Equal(t, 0, run([]string{"env", "fake-gcs-server"}, &out, &errOut))
	first := out.String()
	out.Reset()
	require.Equal(t, 0, run([]string{"status"}, &out, &errOut))
	require.Contains(t, out.String(), "fake-gcs-server: pid ")
	require.Contains(t, first, strings.TrimSpace(strings.Split(strings.Split(out.String(), "http://")[1], ",")[0]), "the same server again")

	out.Reset()
	require.Equal(t, 0, run([]string{"stop"}, &out, &errOut))
	require.Equal(t, "stopped: fake-gcs-server\n", out.String())
	out.Reset()
	require.Equal(t, 0, run([]string{"stop"}, &out, &errOut))
	require.Equal(t, "stopped: none were running\n", out.String())

	require.Equal(t, 2, run([]string{"start"}, &out, &errOut))
	require.Equal(t, 1, run([]string{"env", "redis"}, &out, &errOut))
	require.Contains(t, errOut.String(), `unknown emulator "redis"`)
}
