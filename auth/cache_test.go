package auth_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestOneFetchForManyCallers(t *testing.T) {
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var fetches atomic.Int64
	release := make(chan struct{})
	c := auth.NewCache(func(ctx context.Context) (int64, time.Time, error) {
		n := fetches.Add(1)
		<-release // hold the fetch until every caller waits on it
		return n, clk.Now().Add(time.Hour), nil
	}, clk.Now)

	const callers = 100
	var wg sync.WaitGroup
	var started sync.WaitGroup
	started.Add(callers)
	got := make([]int64, callers)
	for i := range callers {
		wg.Go(func() {
			started.Done()
			v, err := c.Get(context.Background())
			require.NoError(t, err)
			got[i] = v
		})
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let them all reach the flight
	close(release)
	wg.Wait()
	require.Equal(t, int64(1), fetches.Load(), "one upstream fetch")
	for _, v := range got {
		require.Equal(t, int64(1), v)
	}

	// Expired: 100 callers again, one more fetch.
	clk.Advance(2 * time.Hour)
	release = make(chan struct{})
	close(release)
	for range callers {
		wg.Go(func() {
			_, err := c.Get(context.Background())
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Equal(t, int64(2), fetches.Load())
}

func TestRefreshBeforeExpiry(t *testing.T) {
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var fetches atomic.Int64
	c := auth.NewCache(func(ctx context.Context) (int64, time.Time, error) {
		return fetches.Add(1), clk.Now().Add(time.Hour), nil
	}, clk.Now)
	ctx := context.Background()
	_, err := c.Get(ctx)
	require.NoError(t, err)
	clk.Advance(time.Hour - auth.RefreshWindow - auth.RefreshJitter - time.Second)
	v, _ := c.Get(ctx)
	require.Equal(t, int64(1), v, "before the window: cached")
	clk.Advance(auth.RefreshJitter + 2*time.Second)
	v, _ = c.Get(ctx)
	require.Equal(t, int64(2), v, "inside the window: refreshed early")

	c.Invalidate()
	v, _ = c.Get(ctx)
	require.Equal(t, int64(3), v, "Invalidate forces a fetch")
}

func TestFailedRefreshKeepsValidCredentials(t *testing.T) {
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	fail := errors.New("sts down")
	var failing atomic.Bool
	c := auth.NewCache(func(ctx context.Context) (string, time.Time, error) {
		if failing.Load() {
			return "", time.Time{}, fail
		}
		return "creds", clk.Now().Add(10 * time.Minute), nil
	}, clk.Now)
	ctx := context.Background()
	_, err := c.Get(ctx)
	require.NoError(t, err)
	failing.Store(true)
	clk.Advance(6 * time.Minute) // inside the refresh window, not expired
	v, err := c.Get(ctx)
	require.NoError(t, err)
	require.Equal(t, "creds", v)
	clk.Advance(5 * time.Minute) // expired
	_, err = c.Get(ctx)
	require.ErrorIs(t, err, fail)
}

// After a failed refresh the upstream rests RetryAfterFailure; the held
// credentials are never handed out at or past their expiry.
func TestFailedRefreshBacksOff(t *testing.T) {
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var fetches atomic.Int64
	var failing atomic.Bool
	expires := clk.Now().Add(6 * time.Minute)
	c := auth.NewCache(func(ctx context.Context) (string, time.Time, error) {
		fetches.Add(1)
		if failing.Load() {
			return "", time.Time{}, errors.New("down")
		}
		return "creds", expires, nil
	}, clk.Now)
	ctx := context.Background()
	_, err := c.Get(ctx)
	require.NoError(t, err)
	failing.Store(true)
	clk.Advance(2 * time.Minute) // in the refresh window
	for range 5 {
		v, err := c.Get(ctx)
		require.NoError(t, err)
		require.Equal(t, "creds", v)
	}
	require.Equal(t, int64(2), fetches.Load(), "one failed refresh, then rest")
	clk.Advance(auth.RetryAfterFailure + time.Second)
	_, err = c.Get(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), fetches.Load(), "tried again after the rest")

	clk.Advance(expires.Sub(clk.Now()) - time.Second) // 1s before expiry
	_, err = c.Get(ctx)
	require.NoError(t, err, "still valid")
	require.Equal(t, int64(4), fetches.Load())
	clk.Advance(time.Second) // exactly at expiry: expired
	_, err = c.Get(ctx)
	require.ErrorContains(t, err, "down")
	require.Equal(t, int64(5), fetches.Load(), "the rest never outlives the expiry")
}

func TestCallerLeavingDoesNotCancelTheFetch(t *testing.T) {
	release := make(chan struct{})
	var fetchErr atomic.Value
	c := auth.NewCache(func(ctx context.Context) (string, time.Time, error) {
		<-release
		fetchErr.Store(ctx.Err() == nil)
		return "v", time.Time{}, nil
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := c.Get(ctx); done <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled, "the caller stops waiting")
	close(release)
	v, err := c.Get(context.Background())
	require.NoError(t, err)
	require.Equal(t, "v", v)
	require.Equal(t, true, fetchErr.Load(), "the fetch's context was not canceled")
}
