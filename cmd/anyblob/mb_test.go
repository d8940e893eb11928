package main

import (
	"net/url"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/conformance/emulator"
)

// TestMakeAndRemoveBuckets creates, fills, refuses to remove, empties and
// removes a bucket with mb and rb on a directory and on every emulator,
// the whole path a new user takes from nothing to a working bucket.
func TestMakeAndRemoveBuckets(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	m := emulator.MinIO(t)
	a := emulator.Azurite(t, nil)
	g := emulator.FakeGCS(t)
	minioEnv(t, m)
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", a.ConnectionString)
	t.Setenv("STORAGE_EMULATOR_HOST", g.Host)
	dir := filepath.ToSlash(filepath.Join(t.TempDir(), "made"))
	for name, u := range map[string]string{
		"file":   "file://" + dir,
		"s3":     "s3://made?" + url.Values{"region": {m.Region}, "endpoint": {m.Endpoint}}.Encode(),
		"azblob": "azblob://made",
		"gs":     "gs://made?project=p",
	} {
		t.Run(name, func(t *testing.T) {
			cl := &cli{t: t, bucket: u}
			code, _, errOut := cl.run("", "ls")
			require.Equal(t, 3, code, "no bucket yet: not found (%s)", errOut)

			require.Contains(t, cl.ok("", "mb", u), "created "+u)
			code, _, errOut = cl.run("", "mb", u)
			require.Equal(t, 4, code, "a second mb: it exists (%s)", errOut)

			cl.ok("hello\n", "cp", "-", ":a/b.txt")
			require.Equal(t, "hello\n", cl.ok("", "cat", "a/b.txt"))
			code, _, errOut = cl.run("", "rb", u)
			require.Equal(t, 4, code, "rb of a bucket with objects refuses (%s)", errOut)
			require.Equal(t, "hello\n", cl.ok("", "cat", "a/b.txt"), "and leaves it alone")

			out := cl.ok("", "rb", "-f", u)
			require.Contains(t, out, "deleted 1 objects")
			require.Contains(t, out, "removed "+u)
			code, _, _ = cl.run("", "ls")
			require.Equal(t, 3, code, "gone")
		})
	}
	code, _, errOut := (&cli{t: t, bucket: "mem://x"}).run("", "mb", "mem://x")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "not implemented")
}
