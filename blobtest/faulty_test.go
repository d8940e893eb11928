package blobtest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/fileblob"
	"github.com/anyblob/anyblob/blob/memblob"
	"github.com/anyblob/anyblob/blobtest"
)

var sentinels = []error{
	blob.ErrNotFound, blob.ErrPreconditionFailed, blob.ErrPermissionDenied, blob.ErrUnauthenticated,
	blob.ErrInvalidArgument, blob.ErrNotImplemented, blob.ErrThrottled, blob.ErrCanceled, blob.ErrInternal,
}

// requireKind checks that err is an injected *blob.Error matching want and
// no other sentinel.
func requireKind(t *testing.T, err error, want error) {
	t.Helper()
	require.Error(t, err)
	var be *blob.Error
	require.True(t, errors.As(err, &be), "not a *blob.Error: %v", err)
	for _, s := range sentinels {
		require.Equal(t, s == want, errors.Is(err, s), "errors.Is(%v, %v)", err, s)
	}
	if want != blob.ErrCanceled {
		require.Contains(t, err.Error(), "blobtest: injected fault")
	}
}

// seeded returns a memory bucket holding key with data.
func seeded(t *testing.T, key string, data []byte) blob.Bucket {
	t.Helper()
	b := memblob.New("faulty")
	require.NoError(t, blob.WriteAll(context.Background(), b, key, data, nil))
	return b
}

// call makes one call of op on key through b and returns its error; a
// write goes through to Close, a read to the end.
func call(ctx context.Context, b blob.Bucket, op, key string) error {
	switch op {
	case blob.OpRead:
		_, err := blob.ReadAll(ctx, b, key)
		return err
	case blob.OpWrite:
		return blob.WriteAll(ctx, b, key, []byte("new"), nil)
	case blob.OpAttributes:
		_, err := b.Attributes(ctx, key)
		return err
	case blob.OpList:
		_, err := b.List(ctx, &blob.ListOptions{Prefix: key})
		return err
	case blob.OpDelete:
		return b.Delete(ctx, key)
	case blob.OpCopy:
		return b.Copy(ctx, key, "src", nil)
	case blob.OpSign:
		_, err := b.SignedURL(ctx, key, nil)
		return err
	}
	panic("unknown op " + op)
}

var allOps = []string{blob.OpRead, blob.OpWrite, blob.OpAttributes, blob.OpList, blob.OpDelete, blob.OpCopy, blob.OpSign}

func TestOpFilter(t *testing.T) {
	ctx := context.Background()
	for _, op := range allOps {
		t.Run(op, func(t *testing.T) {
			b := seeded(t, "src", []byte("data"))
			require.NoError(t, blob.WriteAll(ctx, b, "k", []byte("k"), nil))
			f := blobtest.NewFaults(1, blobtest.Fault{Op: op, Err: blob.ErrThrottled})
			fb := f.Bucket(b)
			for _, other := range allOps {
				err := call(ctx, fb, other, "k")
				switch {
				case other == op:
					requireKind(t, err, blob.ErrThrottled)
				case other == blob.OpSign:
					require.ErrorIs(t, err, blob.ErrNotImplemented, "memblob's own answer")
				default:
					require.NoError(t, err, other)
				}
			}
			require.Equal(t, 1, f.Injected())
		})
	}
	t.Run("every op", func(t *testing.T) {
		b := seeded(t, "src", []byte("data"))
		fb := blobtest.Faulty(b, blobtest.Fault{Err: blob.ErrPermissionDenied})
		for _, op := range allOps {
			requireKind(t, call(ctx, fb, op, "src"), blob.ErrPermissionDenied)
		}
		got, err := blob.ReadAll(ctx, b, "src")
		require.NoError(t, err)
		require.Equal(t, "data", string(got), "no struck call reached the bucket")
	})
}

func TestKeyPrefix(t *testing.T) {
	ctx := context.Background()
	b := seeded(t, "src", []byte("data"))
	require.NoError(t, blob.WriteAll(ctx, b, "bad/x", []byte("x"), nil))
	fb := blobtest.Faulty(b, blobtest.Fault{KeyPrefix: "bad/", Err: blob.ErrPermissionDenied})

	for _, op := range allOps {
		requireKind(t, call(ctx, fb, op, "bad/x"), blob.ErrPermissionDenied)
	}
	_, err := fb.Attributes(ctx, "src")
	require.NoError(t, err)
	_, err = fb.Attributes(ctx, "bad")
	require.ErrorIs(t, err, blob.ErrNotFound, "memblob's own not found")
	require.NotContains(t, err.Error(), "injected")

	// List matches on its Prefix: only listings inside "bad/" are struck.
	_, err = fb.List(ctx, &blob.ListOptions{Prefix: "bad/2024"})
	requireKind(t, err, blob.ErrPermissionDenied)
	for _, prefix := range []string{"", "bad", "src"} {
		_, err = fb.List(ctx, &blob.ListOptions{Prefix: prefix})
		require.NoError(t, err, "prefix %q", prefix)
	}

	// Copy matches on the destination.
	require.NoError(t, fb.Copy(ctx, "copy", "bad/x", nil))
	requireKind(t, fb.Copy(ctx, "bad/y", "src", nil), blob.ErrPermissionDenied)
}

func TestSharedRulesApplyToInjectedErrors(t *testing.T) {
	ctx := context.Background()
	b := seeded(t, "k", []byte("v"))
	f := blobtest.NewFaults(1, blobtest.Fault{Err: blob.ErrNotFound})
	fb := f.Bucket(b)
	require.NoError(t, fb.Delete(ctx, "k"), "Delete of an absent key is nil, as on every backend")
	err := fb.Copy(ctx, "dst", "k", nil)
	requireKind(t, err, blob.ErrNotFound)
	require.Contains(t, err.Error(), `"k"`, "a missing Copy source is named")
	require.Equal(t, 2, f.Injected())
	ok, err := blob.Exists(ctx, b, "k")
	require.NoError(t, err)
	require.True(t, ok, "the struck Delete did not reach the bucket")
}

func TestAfterAndTimes(t *testing.T) {
	ctx := context.Background()
	b := seeded(t, "k", []byte("v"))
	f := blobtest.NewFaults(1, blobtest.Fault{Op: blob.OpAttributes, Err: blob.ErrThrottled, After: 2, Times: 3})
	fb := f.Bucket(b)
	var pattern []bool
	for range 8 {
		_, err := fb.Attributes(ctx, "k")
		if err != nil {
			requireKind(t, err, blob.ErrThrottled)
		}
		pattern = append(pattern, err != nil)
	}
	require.Equal(t, []bool{false, false, true, true, true, false, false, false}, pattern)
	require.Equal(t, 3, f.Injected())
	require.Equal(t, 8, f.Calls(blob.OpAttributes))
}

func TestRulesInOrder(t *testing.T) {
	ctx := context.Background()
	b := seeded(t, "k", []byte("v"))
	fb := blobtest.Faulty(b,
		blobtest.Fault{Op: blob.OpAttributes, Err: blob.ErrThrottled, Times: 1},
		blobtest.Fault{Op: blob.OpAttributes, Err: blob.ErrInternal, Times: 1},
	)
	_, err := fb.Attributes(ctx, "k")
	requireKind(t, err, blob.ErrThrottled)
	_, err = fb.Attributes(ctx, "k")
	requireKind(t, err, blob.ErrInternal)
	require.Contains(t, err.Error(), "rule 2")
	_, err = fb.Attributes(ctx, "k")
	require.NoError(t, err)
}

// strikes returns which of n Attributes calls a Faults seeded with seed
// strikes with probability p.
func strikes(t *testing.T, seed uint64, p float64, n int) []bool {
	t.Helper()
	ctx := context.Background()
	f := blobtest.NewFaults(seed, blobtest.Fault{Op: blob.OpAttributes, Err: blob.ErrThrottled, Probability: p})
	fb := f.Bucket(seeded(t, "k", []byte("v")))
	out := make([]bool, n)
	hits := 0
	for i := range out {
		_, err := fb.Attributes(ctx, "k")
		if err != nil {
			requireKind(t, err, blob.ErrThrottled)
			hits++
		}
		out[i] = err != nil
	}
	require.Equal(t, hits, f.Injected())
	return out
}

func TestProbability(t *testing.T) {
	const n = 1000
	a := strikes(t, 42, 0.3, n)
	require.Equal(t, a, strikes(t, 42, 0.3, n), "same seed, same calls: same strikes")
	require.NotEqual(t, a, strikes(t, 43, 0.3, n), "another seed: another pattern")
	hits := 0
	for _, s := range a {
		if s {
			hits++
		}
	}
	require.InDelta(t, 0.3*n, hits, 0.05*n, "rate")

	for _, s := range strikes(t, 42, 0, 20) {
		require.True(t, s, "Probability 0 means always")
	}
}

func TestLatency(t *testing.T) {
	ctx := context.Background()
	const d = 50 * time.Millisecond

	t.Run("delay only", func(t *testing.T) {
		f := blobtest.NewFaults(1, blobtest.Fault{Op: blob.OpAttributes, Latency: d})
		fb := f.Bucket(seeded(t, "k", []byte("v")))
		start := time.Now()
		_, err := fb.Attributes(ctx, "k")
		require.NoError(t, err)
		require.GreaterOrEqual(t, time.Since(start), d)
		require.Equal(t, 1, f.Injected(), "a delay is a fault struck")
	})
	t.Run("delay then fail", func(t *testing.T) {
		fb := blobtest.Faulty(seeded(t, "k", []byte("v")), blobtest.Fault{Op: blob.OpRead, Latency: d, Err: blob.ErrThrottled})
		start := time.Now()
		_, err := blob.ReadAll(ctx, fb, "k")
		requireKind(t, err, blob.ErrThrottled)
		require.GreaterOrEqual(t, time.Since(start), d)
	})
	t.Run("write commits after the delay", func(t *testing.T) {
		fb := blobtest.Faulty(memblob.New("w"), blobtest.Fault{Op: blob.OpWrite, Latency: d})
		start := time.Now()
		require.NoError(t, blob.WriteAll(ctx, fb, "k", []byte("v"), nil))
		require.GreaterOrEqual(t, time.Since(start), d)
		ok, err := blob.Exists(ctx, fb, "k")
		require.NoError(t, err)
		require.True(t, ok)
	})
	t.Run("canceled by the context", func(t *testing.T) {
		for _, op := range allOps {
			b := seeded(t, "src", []byte("data"))
			fb := blobtest.Faulty(b, blobtest.Fault{Op: op, Latency: time.Hour, Err: blob.ErrThrottled})
			cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			start := time.Now()
			err := call(cctx, fb, op, "k")
			cancel()
			require.Less(t, time.Since(start), 10*time.Second, op)
			requireKind(t, err, blob.ErrCanceled)
			require.ErrorIs(t, err, context.DeadlineExceeded, op)
			ok, err := blob.Exists(ctx, b, "k")
			require.NoError(t, err)
			require.False(t, ok, "%s: a canceled write leaves nothing", op)
		}
	})
}

func TestCut(t *testing.T) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789"), 10)
	for _, tc := range []struct {
		name     string
		fault    blobtest.Fault
		off, len int64
		want     []byte
		kind     error
	}{
		{"after 40", blobtest.Fault{Op: blob.OpRead, Cut: true, CutAfter: 40}, 0, -1, data[:40], blob.ErrInternal},
		{"any op, own error", blobtest.Fault{Cut: true, CutAfter: 7, Err: blob.ErrThrottled}, 0, -1, data[:7], blob.ErrThrottled},
		{"at once", blobtest.Fault{Cut: true}, 0, -1, []byte{}, blob.ErrInternal},
		{"counted from the range's start", blobtest.Fault{Cut: true, CutAfter: 5}, 30, 20, data[30:35], blob.ErrInternal},
		{"past the end", blobtest.Fault{Cut: true, CutAfter: 1000}, 90, -1, data[90:], blob.ErrInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := blobtest.NewFaults(1, tc.fault)
			fb := f.Bucket(seeded(t, "k", data))
			require.NoError(t, call(ctx, fb, blob.OpAttributes, "k"), "Cut strikes only reads")
			r, err := fb.NewRangeReader(ctx, "k", tc.off, tc.len, nil)
			require.NoError(t, err)
			require.Equal(t, int64(len(data)), r.Attrs().Size)
			got, err := io.ReadAll(r)
			requireKind(t, err, tc.kind)
			require.Contains(t, err.Error(), "cut the read")
			require.Equal(t, tc.want, got)
			_, err = r.Read(make([]byte, 10))
			requireKind(t, err, tc.kind)
			require.NoError(t, r.Close())
			require.Equal(t, 1, f.Injected())
		})
	}
	t.Run("ReadAll and io.Copy", func(t *testing.T) {
		fb := blobtest.Faulty(seeded(t, "k", data), blobtest.Fault{Cut: true, CutAfter: 50, Times: 2})
		_, err := blob.ReadAll(ctx, fb, "k")
		requireKind(t, err, blob.ErrInternal)
		var buf bytes.Buffer
		err = blob.Download(ctx, fb, "k", &buf)
		requireKind(t, err, blob.ErrInternal)
		require.Equal(t, data[:50], buf.Bytes())
		got, err := blob.ReadAll(ctx, fb, "k")
		require.NoError(t, err, "Times 2 is spent")
		require.Equal(t, data, got)
	})
}

func TestErrorsMatchTheSentinel(t *testing.T) {
	ctx := context.Background()
	for _, s := range sentinels {
		fb := blobtest.Faulty(seeded(t, "k", []byte("v")), blobtest.Fault{Op: blob.OpAttributes, Err: s})
		_, err := fb.Attributes(ctx, "k")
		requireKind(t, err, s)
		require.Equal(t, 1, strings.Count(err.Error(), "blob:"), "wrapped once: %v", err)
		require.Contains(t, err.Error(), `attributes mem://faulty "k"`)
	}
	fb := blobtest.Faulty(seeded(t, "k", []byte("v")), blobtest.Fault{Op: blob.OpDelete})
	requireKind(t, fb.Delete(ctx, "k"), blob.ErrInternal)
}

func TestFailedWriteLeavesNothing(t *testing.T) {
	ctx := context.Background()
	b := seeded(t, "old", []byte("old"))
	f := blobtest.NewFaults(1, blobtest.Fault{Op: blob.OpWrite, Err: blob.ErrThrottled})
	fb := f.Bucket(b)

	w, err := fb.NewWriter(ctx, "new", nil)
	require.NoError(t, err, "a write fails at Close")
	_, err = w.Write([]byte("data"))
	require.NoError(t, err)
	requireKind(t, w.Close(), blob.ErrThrottled)
	ok, err := blob.Exists(ctx, b, "new")
	require.NoError(t, err)
	require.False(t, ok)

	requireKind(t, blob.WriteAll(ctx, fb, "old", []byte("replaced"), nil), blob.ErrThrottled)
	got, err := blob.ReadAll(ctx, b, "old")
	require.NoError(t, err)
	require.Equal(t, "old", string(got), "a failed overwrite keeps the old object")

	requireKind(t, blob.Upload(ctx, fb, "up", strings.NewReader("streamed"), nil), blob.ErrThrottled)
	ok, err = blob.Exists(ctx, b, "up")
	require.NoError(t, err)
	require.False(t, ok)

	w, err = fb.NewWriter(ctx, "aborted", nil)
	require.NoError(t, err)
	require.NoError(t, w.Abort(nil), "Abort passes through")
	require.Equal(t, 4, f.Injected(), "counted at NewWriter")
}

func TestCounters(t *testing.T) {
	ctx := context.Background()
	b := seeded(t, "src", []byte("data"))
	f := blobtest.NewFaults(1, blobtest.Fault{Op: blob.OpDelete, Err: blob.ErrThrottled, Times: 1})
	fb := f.Bucket(b)
	for _, op := range allOps {
		_ = call(ctx, fb, op, "k")
	}
	_, err := fb.Attributes(ctx, "bad\x00key")
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	for _, op := range allOps {
		require.Equal(t, 1, f.Calls(op), op)
	}
	require.Equal(t, 7, f.Calls(""))
	require.Equal(t, 0, f.Calls(blob.OpOpen))
	require.Equal(t, 1, f.Injected())

	f.Add(blobtest.Fault{Op: blob.OpAttributes})
	_, err = fb.Attributes(ctx, "src")
	requireKind(t, err, blob.ErrInternal)
	f.Reset()
	_, err = fb.Attributes(ctx, "src")
	require.NoError(t, err, "Reset removes the rules")
	require.Equal(t, 2, f.Injected(), "and keeps the counters")
	require.Equal(t, 3, f.Calls(blob.OpAttributes))

	f.Add(blobtest.Fault{Op: blob.OpAttributes, Err: blob.ErrThrottled})
	_, err = fb.Attributes(ctx, "src")
	requireKind(t, err, blob.ErrThrottled)
	require.Contains(t, err.Error(), "rule 1 (strike 1)")
}

func TestDeleteKeysStrikesEachKey(t *testing.T) {
	ctx := context.Background()
	b := memblob.New("batch")
	keys := []string{"a", "keep/1", "b", "keep/2", "c"}
	for _, k := range keys {
		require.NoError(t, blob.WriteAll(ctx, b, k, []byte(k), nil))
	}
	f := blobtest.NewFaults(1, blobtest.Fault{Op: blob.OpDelete, KeyPrefix: "keep/", Err: blob.ErrPermissionDenied})
	fb := f.Bucket(b)
	err := fb.(blob.BatchDeleter).DeleteKeys(ctx, keys)
	requireKind(t, err, blob.ErrPermissionDenied)
	require.Equal(t, len(keys), f.Calls(blob.OpDelete))
	require.Equal(t, 2, f.Injected())
	var left []string
	for o, err := range blob.Objects(ctx, b, nil) {
		require.NoError(t, err)
		left = append(left, o.Key)
	}
	require.Equal(t, []string{"keep/1", "keep/2"}, left)
}

func TestAsReachesNativeTypes(t *testing.T) {
	// memblob has no native types; fileblob has *os.Root and *os.File.
	ctx := context.Background()
	b, err := fileblob.Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, blob.WriteAll(ctx, b, "k", []byte("0123456789"), nil))
	fb := blobtest.Faulty(b, blobtest.Fault{Cut: true, CutAfter: 3})

	var root *os.Root
	require.True(t, blob.As(fb, &root))
	require.NotNil(t, root)

	r, err := fb.NewReader(ctx, "k", nil)
	require.NoError(t, err)
	defer r.Close()
	var file *os.File
	require.True(t, blob.As(r, &file), "through the cut reader")
	require.NotNil(t, file)
	got, err := io.ReadAll(r)
	requireKind(t, err, blob.ErrInternal)
	require.Equal(t, "012", string(got))
}

func TestInvalidFaultsPanic(t *testing.T) {
	for name, f := range map[string]blobtest.Fault{
		"unknown op":        {Op: "Read"},
		"open":              {Op: blob.OpOpen},
		"not a sentinel":    {Err: errors.New("boom")},
		"a *blob.Error":     {Err: blob.Errorf(blob.ErrThrottled, "slow down")},
		"negative After":    {After: -1},
		"negative Times":    {Times: -1},
		"negative Latency":  {Latency: -time.Second},
		"negative CutAfter": {Cut: true, CutAfter: -1},
		"probability > 1":   {Probability: 1.5},
		"probability < 0":   {Probability: -0.1},
		"cut on writes":     {Op: blob.OpWrite, Cut: true},
		"CutAfter, no Cut":  {CutAfter: 10},
	} {
		require.Panics(t, func() { blobtest.NewFaults(1, f) }, name)
		require.Panics(t, func() { new(blobtest.Faults).Add(f) }, name)
	}
}

func TestZeroFaults(t *testing.T) {
	ctx := context.Background()
	var f blobtest.Faults
	fb := f.Bucket(seeded(t, "k", []byte("v")))
	_, err := fb.Attributes(ctx, "k")
	require.NoError(t, err)
	f.Add(blobtest.Fault{Op: blob.OpAttributes, Probability: 0.5, Times: 3})
	for range 100 {
		_, _ = fb.Attributes(ctx, "k")
	}
	require.Equal(t, 3, f.Injected())
	require.Equal(t, 101, f.Calls(blob.OpAttributes))
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	b := seeded(t, "k", []byte("v"))
	f := blobtest.NewFaults(9, blobtest.Fault{Err: blob.ErrThrottled, Probability: 0.5})
	fb := f.Bucket(b)
	const workers, each = 8, 100
	var mu sync.Mutex
	failed := 0
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				var err error
				if (w+i)%2 == 0 {
					_, err = fb.Attributes(ctx, "k")
				} else {
					_, err = blob.ReadAll(ctx, fb, "k")
				}
				if err != nil {
					if !errors.Is(err, blob.ErrThrottled) || !strings.Contains(err.Error(), "injected") {
						t.Errorf("not an injected ErrThrottled: %v", err)
					}
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, workers*each, f.Calls(""))
	require.Equal(t, failed, f.Injected())
	require.InDelta(t, workers*each/2, failed, workers*each/5)
}

// limitedDriver says it stores segments of at most 100 bytes.
type limitedDriver struct{ blob.Driver }

func (limitedDriver) Limits(context.Context) (blob.Limits, error) {
	return blob.Limits{MaxKeyLen: 1024, MaxSegmentLen: 100}, nil
}

func TestFaultyKeepsTheKeyLimits(t *testing.T) {
	base := blob.Wrap(memblob.New("limits"), func(d blob.Driver) blob.Driver { return limitedDriver{d} })
	l, err := blob.LimitsOf(context.Background(), blobtest.Faulty(base))
	require.NoError(t, err)
	require.Equal(t, 100, l.MaxSingleKeyLen())
}
