package main

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCrossCloudTrees: on S3 (MinIO), Azure Blob (Azurite) and GCS
// (fake-gcs-server), a recursive upload, a recursive copy to the next
// cloud, a pattern downloaded, and syncs up, down and to the next cloud,
// with and without changes.
func TestCrossCloudTrees(t *testing.T) {
	urls := clouds(t)
	schemes := make([]string, 0, len(urls))
	for s := range urls {
		schemes = append(schemes, s)
	}
	sort.Strings(schemes)
	for i, scheme := range schemes {
		u, next := urls[scheme], urls[schemes[(i+1)%len(schemes)]]
		t.Run(scheme, func(t *testing.T) {
			c := &cli{t: t}
			src := t.TempDir()
			writeTree(t, src, sample)
			c.ok("", "cp", "-r", src, at(u, scheme+"-up"))
			require.Equal(t, []string{scheme + "-up/a.csv", scheme + "-up/index.html", scheme + "-up/sub/b.txt", scheme + "-up/sub/deep/c.bin"},
				c.keys(at(u, scheme+"-up/")))
			c.ok("", "cp", "-r", at(u, scheme+"-up"), at(next, "from-"+scheme+"/"))
			dl := t.TempDir()
			c.ok("", "cp", "-r", at(next, "from-"+scheme), dl)
			require.Equal(t, sample, readTree(t, dl))

			globbed := t.TempDir()
			c.ok("", "cp", at(u, scheme+"-up/*.*"), globbed)
			require.Equal(t, map[string]string{"a.csv": sample["a.csv"], "index.html": sample["index.html"]}, readTree(t, globbed))
			require.Equal(t, scheme+"-up/sub/b.txt\n", c.ok("", "ls", at(u, scheme+"-up/*/b.txt")))
			c.ok("", "rm", at(u, scheme+"-up/*.csv"))
			require.Len(t, c.keys(at(u, scheme+"-up/")), 3)
			require.Equal(t, "deleted 3 objects under "+scheme+"-up/\n", c.ok("", "rm", "-r", at(u, scheme+"-up")))

			syncRoundTrip(t, c, at(u, scheme+"-site"), at(next, "mirror-of-"+scheme))
		})
	}
}
