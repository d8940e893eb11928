package retry

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/events"
)

// errTest is the cause the tests' failed attempts give.
var errTest = blob.Errorf(blob.ErrInternal, "test failure")

func TestBackoffIsFullJitterUnderACappedCeiling(t *testing.T) {
	r, err := New(blob.RetryPolicy{BaseDelay: 10 * time.Millisecond, MaxDelay: 80 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, blob.DefaultMaxAttempts, r.MaxAttempts())
	for n := 1; n <= 10; n++ {
		ceil := min(10*time.Millisecond<<(n-1), 80*time.Millisecond)
		var top time.Duration
		for range 200 {
			d := r.Backoff(n)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.Less(t, d, ceil)
			top = max(top, d)
		}
		require.Greater(t, top, ceil/2, "waits spread over [0, %v)", ceil)
	}
}

func TestInvalidPolicies(t *testing.T) {
	for _, p := range []blob.RetryPolicy{
		{MaxAttempts: -1}, {BaseDelay: -time.Second}, {MaxDelay: -1},
		{BaseDelay: time.Minute}, // above the default MaxDelay
		{BaseDelay: 2 * time.Second, MaxDelay: time.Second},
	} {
		_, err := New(p)
		require.ErrorIs(t, err, blob.ErrInvalidArgument, "%+v", p)
	}
	require.NoError(t, blob.RetryPolicy{}.Validate())
	require.Equal(t, "retry{attempts=5 delay=100ms..5s budget=500}", blob.RetryPolicy{}.String())
	require.Equal(t, "retry{attempts=2 delay=100ms..5s budget=none}", blob.RetryPolicy{MaxAttempts: 2, Budget: -1}.String())
}

func TestAgainStopsAtMaxAttempts(t *testing.T) {
	r, err := New(blob.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Microsecond, MaxDelay: time.Microsecond})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, r.Again(ctx, 1, errTest))
	require.NoError(t, r.Again(ctx, 2, errTest))
	require.Equal(t, ErrStop, r.Again(ctx, 3, errTest))

	one, err := New(blob.RetryPolicy{MaxAttempts: 1})
	require.NoError(t, err)
	require.Equal(t, ErrStop, one.Again(ctx, 1, errTest), "1 means no retries")
}

func TestAgainNeverWaitsPastTheDeadline(t *testing.T) {
	r, err := New(blob.RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	// A wait drawn from [0, 1h) is almost surely past a 2s deadline: stop,
	// so the caller returns its last failure, not a deadline error.
	stops := 0
	for range 20 {
		if r.Again(ctx, 1, errTest) == ErrStop {
			stops++
		}
	}
	require.GreaterOrEqual(t, stops, 19)
	require.Less(t, time.Since(start), 2*time.Second)
}

func TestAgainReturnsTheCallersCancellation(t *testing.T) {
	r, err := New(blob.RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	require.ErrorIs(t, r.Again(ctx, 1, errTest), context.Canceled, "no deadline: wait until canceled")
	require.Less(t, time.Since(start), time.Minute)
	require.ErrorIs(t, r.Again(ctx, 1, errTest), context.Canceled, "already canceled")
}

func TestBudgetBoundsRetriesAndRefills(t *testing.T) {
	r, err := New(blob.RetryPolicy{MaxAttempts: 100, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond, Budget: 100})
	require.NoError(t, err)
	ctx := context.Background()
	made := 0
	for range 300 {
		if r.Again(ctx, 1, errTest) == nil {
			made++
		}
	}
	require.GreaterOrEqual(t, made, 100)
	require.LessOrEqual(t, made, 110, "a budget of 100 allows about 100 retries at once")
	time.Sleep(300 * time.Millisecond) // refills at 10 tokens a second
	require.NoError(t, r.Again(ctx, 1, errTest), "the budget refills with time")

	unlimited, err := New(blob.RetryPolicy{MaxAttempts: 100, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond, Budget: -1})
	require.NoError(t, err)
	for range 1000 {
		require.NoError(t, unlimited.Again(ctx, 1, errTest))
	}
}

func TestStatus(t *testing.T) {
	for code, want := range map[int]bool{200: false, 404: false, 408: true, 409: false, 412: false, 429: true, 500: true, 501: false, 502: true, 503: true, 504: true} {
		require.Equal(t, want, Status(code), "%d", code)
	}
}

func TestAgainAnnouncesTheRetry(t *testing.T) {
	r, err := New(blob.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})
	require.NoError(t, err)
	var heard []events.Event
	ctx := events.With(context.Background(), func(_ context.Context, e events.Event) { heard = append(heard, e) })
	require.NoError(t, r.Again(ctx, 1, errTest))
	require.Equal(t, ErrStop, r.Again(ctx, 2, errTest))
	require.Len(t, heard, 1, "only a retry that is made is announced")
	require.Equal(t, events.Retry, heard[0].Kind)
	require.Equal(t, 1, heard[0].Attempt)
	require.Less(t, heard[0].Delay, time.Millisecond)
	require.Equal(t, errTest, heard[0].Err)
}
