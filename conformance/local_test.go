package conformance_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/fileblob"
	"github.com/anyblob/anyblob/blob/memblob"
	"github.com/anyblob/anyblob/conformance"
)

var noSigning = map[conformance.Capability]string{
	conformance.SignedURL: "local buckets have no server to sign for",
}

func memHarness() conformance.Harness {
	return conformance.Harness{
		Open:  func(t *testing.T) blob.Bucket { return memblob.New(t.Name()) },
		Lacks: noSigning,
	}
}

// fileHarness opens directory buckets in the given layout ("" is the
// default, natural).
func fileHarness(layout fileblob.Layout) conformance.Harness {
	return conformance.Harness{
		Open: func(t *testing.T) blob.Bucket {
			b, err := fileblob.Open(t.TempDir(), &fileblob.Options{Layout: layout})
			require.NoError(t, err)
			return b
		},
		Lacks: noSigning,
	}
}

func TestMem(t *testing.T)  { conformance.Run(t, memHarness()) }
func TestFile(t *testing.T) { conformance.Run(t, fileHarness("")) }
func TestFileEscaped(t *testing.T) {
	conformance.Run(t, fileHarness(fileblob.LayoutEscaped))
}
func TestMemPrefixed(t *testing.T) {
	conformance.Run(t, conformance.Prefixed(memHarness(), "tenant/sub/"))
}
func TestFilePrefixed(t *testing.T) {
	conformance.Run(t, conformance.Prefixed(fileHarness(""), "tenant/sub/"))
}

func TestSuiteSize(t *testing.T) {
	require.GreaterOrEqual(t, conformance.Checks(), 60)
}
