package azure_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/azure"
)

var containerSeq atomic.Int64

// harness runs the suite on one Azurite, a new container per check, all
// through one Client with the shared key of its connection string.
func harness(t *testing.T) conformance.Harness {
	srv := emulator.Azurite(t, nil)
	c, err := azure.New(context.Background(), azure.Options{ConnectionString: srv.ConnectionString})
	require.NoError(t, err)
	return conformance.Harness{
		Open: func(t *testing.T) blob.Bucket {
			name := fmt.Sprintf("conformance-%d", containerSeq.Add(1))
			require.NoError(t, c.CreateContainer(context.Background(), name))
			b, err := c.Bucket(name)
			require.NoError(t, err)
			return b
		},
	}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, harness(t))
}

func TestConformancePrefixed(t *testing.T) {
	conformance.Run(t, conformance.Prefixed(harness(t), "pre/fix/"))
}
