package aws

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFlightsShareOneCall proves that callers of one key share the call in
// flight and its outcome, that a caller waiting gives up with its own
// context, and that when the caller making the call is canceled the
// others make it again instead of taking its cancellation.
func TestFlightsShareOneCall(t *testing.T) {
	var f flights
	var calls atomic.Int32
	release := make(chan struct{})
	boom := errors.New("boom")
	call := func(ctx context.Context) error {
		calls.Add(1)
		select {
		case <-release:
			return boom
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- f.do(context.Background(), "k", call) })
	}
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // the others are waiting
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.ErrorIs(t, err, boom)
	}
	require.Equal(t, int32(1), calls.Load(), "one call for eight callers")

	// A waiter whose own context ends returns its error.
	calls.Store(0)
	block := make(chan struct{})
	slow := func(ctx context.Context) error { calls.Add(1); <-block; return nil }
	go f.do(context.Background(), "s", slow)
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, f.do(ctx, "s", slow), context.DeadlineExceeded)
	close(block)

	// The caller making the call is canceled: the waiter calls again.
	calls.Store(0)
	lctx, lcancel := context.WithCancel(context.Background())
	wait := func(ctx context.Context) error { calls.Add(1); <-ctx.Done(); return ctx.Err() }
	leader := make(chan error, 1)
	go func() { leader <- f.do(lctx, "c", wait) }()
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	waiter := make(chan error, 1)
	go func() {
		waiter <- f.do(context.Background(), "c", func(context.Context) error { calls.Add(1); return nil })
	}()
	time.Sleep(20 * time.Millisecond)
	lcancel()
	require.ErrorIs(t, <-leader, context.Canceled)
	require.NoError(t, <-waiter, "the waiter made the call itself")
	require.Equal(t, int32(2), calls.Load())
}
