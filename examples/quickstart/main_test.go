package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQuickstartOnTheDefaultDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("CLOUD_PROVIDER", "")
	t.Setenv("CLOUD_BUCKET", "")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	require.Equal(t, `wrote 4 objects
create-only write of an existing key: precondition failed, as it should
listing quickstart/ with delimiter /:
  quickstart/data/ (prefix)
  quickstart/hello.txt (15 bytes)
  quickstart/notes/ (prefix)
read quickstart/hello.txt: "hello, anyblob\n" (text/plain; charset=utf-8, written-by=quickstart)
deleted 4 objects
`, out.String())
	st, err := os.Stat(filepath.Join(dir, "anyblob-data"))
	require.NoError(t, err, "the default bucket is the local directory anyblob-data")
	require.True(t, st.IsDir())
}

func TestQuickstartInMemory(t *testing.T) {
	t.Setenv("CLOUD_PROVIDER", "mem")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	require.Contains(t, out.String(), "deleted 4 objects")
}
