package blob_test

import (
	"context"
	"io"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

type ctxKey struct{}

// recordingObserver records every operation and marks the driver's context.
type recordingObserver struct {
	mu   sync.Mutex
	ops  []blob.Operation
	outs []blob.Outcome
}

func (r *recordingObserver) Start(ctx context.Context, op blob.Operation) (context.Context, func(blob.Outcome)) {
	return context.WithValue(ctx, ctxKey{}, "seen"), func(o blob.Outcome) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.ops = append(r.ops, op)
		r.outs = append(r.outs, o)
	}
}

func TestObserveSeesEveryOperation(t *testing.T) {
	ctx := context.Background()
	rec := &recordingObserver{}
	var funcSeen []string
	b := blob.Observe(blob.Prefixed(newMem(t), "p/"), rec)
	b = blob.Observe(b, blob.ObserverFunc(func(op blob.Operation, _ blob.Outcome) { funcSeen = append(funcSeen, op.Op) }))

	require.NoError(t, blob.WriteAll(ctx, b, "k", []byte("hello"), nil))
	r, err := b.NewRangeReader(ctx, "k", 1, 3, nil)
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, "ell", string(got))
	require.NoError(t, r.Close())
	_, err = b.Attributes(ctx, "missing")
	require.ErrorIs(t, err, blob.ErrNotFound)
	_, err = b.List(ctx, &blob.ListOptions{Prefix: "k"})
	require.NoError(t, err)
	require.NoError(t, b.Copy(ctx, "k2", "k", nil))
	require.NoError(t, b.Delete(ctx, "k2"))
	_, err = b.SignedURL(ctx, "k", nil)
	require.ErrorIs(t, err, blob.ErrNotImplemented)
	w, err := b.NewWriter(ctx, "aborted", nil)
	require.NoError(t, err)
	require.NoError(t, w.Abort(nil))

	want := []struct {
		op, key string
		bytes   int64
		kind    error
	}{
		{blob.OpWrite, "k", 5, nil},
		{blob.OpRead, "k", 3, nil},
		{blob.OpAttributes, "missing", 0, blob.ErrNotFound},
		{blob.OpList, "k", 0, nil},
		{blob.OpCopy, "k2", 0, nil},
		{blob.OpDelete, "k2", 0, nil},
		{blob.OpSign, "k", 0, blob.ErrNotImplemented},
		{blob.OpWrite, "aborted", 0, blob.ErrCanceled},
	}
	require.Len(t, rec.ops, len(want))
	for i, w := range want {
		require.Equal(t, w.op, rec.ops[i].Op, i)
		require.Equal(t, w.key, rec.ops[i].Key, "the caller's key, not the prefixed one")
		require.Equal(t, "mem", rec.ops[i].Provider)
		require.Equal(t, w.bytes, rec.outs[i].Bytes, w.op)
		require.Equal(t, w.kind, blob.KindOf(rec.outs[i].Err), w.op)
		require.GreaterOrEqual(t, rec.outs[i].Duration, int64(0))
	}
	require.Len(t, funcSeen, len(want), "both observers see every operation")
}

func TestObserveContextReachesTheDriver(t *testing.T) {
	var seen any
	d := &ctxDriver{Bucket: newMem(t), seen: &seen}
	b := blob.Observe(blob.NewBucket("ctx", "c", d), &recordingObserver{})
	_, _ = b.Attributes(context.Background(), "k")
	require.Equal(t, "seen", seen)
}

// ctxDriver records the context value the observer set.
type ctxDriver struct {
	blob.Bucket
	seen *any
}

func (d *ctxDriver) Attributes(ctx context.Context, key string) (*blob.Attributes, error) {
	*d.seen = ctx.Value(ctxKey{})
	return d.Bucket.Attributes(ctx, key)
}
func (d *ctxDriver) ErrorDetail(error) blob.ErrorDetail { return blob.ErrorDetail{} }

// staticDriver answers Attributes from one preallocated value.
type staticDriver struct {
	blob.Bucket
	a *blob.Attributes
}

func (d *staticDriver) Attributes(context.Context, string) (*blob.Attributes, error) {
	return d.a, nil
}
func (d *staticDriver) ErrorDetail(error) blob.ErrorDetail { return blob.ErrorDetail{} }

func TestUnobservedSeamAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	b := blob.NewBucket("static", "s", &staticDriver{Bucket: newMem(t), a: &blob.Attributes{Metadata: map[string]string{}}})
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := b.Attributes(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs, "the shared layer with no observer allocates nothing")
}
