package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

func TestBucketURLAddresses(t *testing.T) {
	r := resolver{}
	tests := []struct {
		arg, bucket, key string
		folder           bool
	}{
		{"s3://b/reports/q3.csv?region=eu-west-1&endpoint=http://127.0.0.1:9000", "s3://b?region=eu-west-1&endpoint=http://127.0.0.1:9000", "reports/q3.csv", false},
		{"s3://b/reports/?region=r", "s3://b?region=r", "reports/", true},
		{"s3://b", "s3://b", "", true},
		{"s3://b/", "s3://b", "", true},
		{"gs://b/100%.txt", "gs://b", "100%.txt", false},                           // as written: no %-decoding
		{"gs://b/a%20b#1", "gs://b", "a%20b#1", false},                             // nor fragments
		{"azblob://c/a//b?account=acct", "azblob://c?account=acct", "a//b", false}, // nor cleaning
		{"mem://name/dir/key", "mem://name", "dir/key", false},
		{"nope://x/y", "nope://x", "y", false}, // OpenBucket says the scheme is unknown
	}
	for _, tt := range tests {
		a, err := r.object(tt.arg)
		require.NoError(t, err, tt.arg)
		require.Equal(t, address{raw: tt.arg, kind: addrObject, bucket: tt.bucket, key: tt.key, folder: tt.folder}, a, tt.arg)
		b, err := r.cpArg(tt.arg)
		require.NoError(t, err, tt.arg)
		require.Equal(t, a, b, "cp reads URLs alike")
	}
	_, err := r.object("s3:///key")
	require.ErrorContains(t, err, "s3:///key names no bucket; write s3://BUCKET/KEY")
	_, err = r.cpArg("file://host/dir/x")
	require.ErrorContains(t, err, "a file URL has no host; write file:///absolute/path")
}

func TestShortAndLocalAddresses(t *testing.T) {
	r := resolver{defaultBucket: "mem://d"}
	for arg, want := range map[string]address{
		":a/b":      {raw: ":a/b", kind: addrObject, key: "a/b"},
		":":         {raw: ":", kind: addrObject, folder: true},
		":reports/": {raw: ":reports/", kind: addrObject, key: "reports/", folder: true},
	} {
		got, err := r.cpArg(arg)
		require.NoError(t, err)
		require.Equal(t, want, got, arg)
	}
	// Outside cp, a bare argument is a key on the default bucket.
	a, err := r.object("a/b")
	require.NoError(t, err)
	require.Equal(t, address{raw: "a/b", kind: addrObject, key: "a/b"}, a)

	// In cp, it is a local path: a folder when it ends in / or is one.
	dir := t.TempDir()
	for arg, want := range map[string]address{
		"-":                           {raw: "-", kind: addrStdio},
		"a/b":                         {raw: "a/b", kind: addrLocal, path: "a/b"},
		"dl/":                         {raw: "dl/", kind: addrLocal, path: "dl/", folder: true},
		dir:                           {raw: dir, kind: addrLocal, path: dir, folder: true},
		filepath.Join(dir, "new.bin"): {raw: filepath.Join(dir, "new.bin"), kind: addrLocal, path: filepath.Join(dir, "new.bin")},
	} {
		got, err := r.cpArg(arg)
		require.NoError(t, err)
		require.Equal(t, want, got, arg)
	}
	_, err = r.cpArg("")
	require.ErrorContains(t, err, "empty path")

	bs := &buckets{defaultBucket: "mem://d"}
	require.Equal(t, bs.id(address{bucket: "mem://d"}), bs.id(address{}), "an explicit URL equal to --bucket is the same bucket")
}

// TestFileURLSplit checks where a file URL's bucket directory ends and its
// key begins: at --bucket, at the nearest bucket anyblob has written, or
// at the file's own directory.
func TestFileURLSplit(t *testing.T) {
	root := filepath.ToSlash(t.TempDir())
	require.NoError(t, os.MkdirAll(root+"/plain/sub", 0o777))
	require.NoError(t, os.MkdirAll(root+"/bkt/x/y", 0o777))
	// bkt is a bucket anyblob has written to: it has the hidden folder.
	b, err := blob.OpenBucket(context.Background(), "file://"+root+"/bkt")
	require.NoError(t, err)
	require.NoError(t, blob.WriteAll(context.Background(), b, "x/y/z.txt", []byte("z"), nil))
	require.NoError(t, b.Close())

	tests := []struct {
		def, arg, bucket, key string
		folder                bool
	}{
		// No bucket above: the file's own directory.
		{"", "/plain/sub/f.csv", "/plain/sub", "f.csv", false},
		{"", "/plain/new/f.csv", "/plain/new", "f.csv", false},
		// A folder (a trailing / or an existing directory) is its own bucket.
		{"", "/plain/sub/", "/plain/sub", "", true},
		{"", "/plain/sub", "/plain/sub", "", true},
		// Under a bucket anyblob has written to: that bucket, however deep.
		{"", "/bkt/x/y/z.txt", "/bkt", "x/y/z.txt", false},
		{"", "/bkt/x/new/n.txt", "/bkt", "x/new/n.txt", false},
		{"", "/bkt/x/", "/bkt", "x/", true},
		{"", "/bkt/x", "/bkt", "x/", true},
		// Under --bucket: that one, first.
		{"/plain", "/plain/sub/f.csv", "/plain", "sub/f.csv", false},
		{"/bkt/x", "/bkt/x/y/z.txt", "/bkt/x", "y/z.txt", false},
		{"/plain/sub", "/bkt/x/y/z.txt", "/bkt", "x/y/z.txt", false}, // not under it
	}
	for _, tt := range tests {
		r := resolver{}
		if tt.def != "" {
			r.defaultBucket = "file://" + root + tt.def
		}
		arg := "file://" + root + tt.arg
		a, err := r.cpArg(arg)
		require.NoError(t, err, arg)
		require.Equal(t, "file://"+root+tt.bucket, a.bucket, "%s with --bucket %q", tt.arg, tt.def)
		require.Equal(t, tt.key, a.key, tt.arg)
		require.Equal(t, tt.folder, a.folder, tt.arg)
	}

	// The URL's parameters are the bucket's.
	a, err := resolver{}.cpArg("file://" + root + "/plain/new/f.csv?create_dir=true")
	require.NoError(t, err)
	require.Equal(t, "file://"+root+"/plain/new?create_dir=true", a.bucket)
	// Under --bucket, its own string names the bucket, so that :KEY and
	// the URL share one.
	r := resolver{defaultBucket: "file://" + root + "/plain?create_dir=true"}
	a, err = r.cpArg("file://" + root + "/plain/f.csv")
	require.NoError(t, err)
	require.Equal(t, r.defaultBucket, a.bucket)
}
