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

func fileHarness() conformance.Harness {
	return conformance.Harness{
		Open: func(t *testing.T) blob.Bucket {
			b, err := fileblob.Open(t.TempDir(), nil)
			require.NoError(t, err)
			return b
		},
		Lacks: noSigning,
	}
}

const testPrefix = "tenant/sub/"

// prefixed runs h's buckets through blob.Prefixed, with another object
// beside the prefix that must stay out of sight.
func prefixed(h conformance.Harness) conformance.Harness {
	open := h.Open
	h.Open = func(t *testing.T) blob.Bucket {
		inner := open(t)
		require.NoError(t, blob.WriteAll(t.Context(), inner, "outside", []byte("not yours"), nil))
		return blob.Prefixed(inner, testPrefix)
	}
	h.MaxKeyLen = blob.MaxKeyLen - len(testPrefix)
	return h
}

func TestMem(t *testing.T)          { conformance.Run(t, memHarness()) }
func TestFile(t *testing.T)         { conformance.Run(t, fileHarness()) }
func TestMemPrefixed(t *testing.T)  { conformance.Run(t, prefixed(memHarness())) }
func TestFilePrefixed(t *testing.T) { conformance.Run(t, prefixed(fileHarness())) }

func TestSuiteSize(t *testing.T) {
	require.GreaterOrEqual(t, conformance.Checks(), 60)
}
