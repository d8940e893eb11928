package adapt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// feed finishes rounds of parts of n bytes, each round's timed half
// taking d(allowed); it returns the allowed parts after rounds rounds.
func feed(r *Rounds, rounds int, d func(allowed int) time.Duration) int {
	for range rounds {
		a := r.Allowed()
		for range a {
			r.Done(1 << 20)
		}
		time.Sleep(d(a))
		for range a {
			r.Done(1 << 20)
		}
	}
	return r.Allowed()
}

func TestGrowsWhileTheRateGrows(t *testing.T) {
	// Each part takes as long whatever the number at once: the rate
	// grows with it, up to the bound.
	r := New(4, 16)
	// 4, 6, 9, 13, 16; a loaded machine's timer jitter may stop it a step
	// early.
	got := feed(r, 6, func(int) time.Duration { return 20 * time.Millisecond })
	require.GreaterOrEqual(t, got, 9, "two steps the rate decided (timer jitter may stop it there)")
	require.LessOrEqual(t, got, 16)
}

func TestSettlesWhenTheRateStops(t *testing.T) {
	// A round takes as long as its parts at a fixed total rate: after the
	// first growth the rate stays, and so does the number.
	r := New(4, 16)
	got := feed(r, 6, func(a int) time.Duration { return time.Duration(a) * 10 * time.Millisecond })
	// It grows once (there is no round before the first), then settles: 6,
	// or 9 were timer jitter to make one round look a sixth faster.
	require.GreaterOrEqual(t, got, 6)
	require.LessOrEqual(t, got, 9, "settled well below the bound")
	require.Zero(t, r.Done(1<<20), "settled for good")
}

func TestBoundsAndSettle(t *testing.T) {
	require.Equal(t, 3, New(8, 3).Allowed(), "start at most the bound")
	require.Equal(t, 1, New(0, 5).Allowed())
	r := New(4, 16)
	r.Settle()
	require.Equal(t, 4, feed(r, 3, func(int) time.Duration { return time.Millisecond }))
}

// TestTarget: a target starts at two parts, and the first part to finish
// sets the count from its own rate, once.
func TestTarget(t *testing.T) {
	r := NewTarget(100<<20, 16)
	require.Equal(t, 2, r.Allowed())
	// 4 MiB in 100 ms is 40 MiB/s a connection: 100 MiB/s needs 3.
	require.Equal(t, 1, r.Finished(4<<20, 100*time.Millisecond))
	require.Equal(t, 3, r.Allowed())
	require.Equal(t, 0, r.Finished(4<<20, time.Second), "settled after the first part")
	require.Equal(t, 3, r.Allowed())

	r = NewTarget(10<<30, 6)
	require.Equal(t, 4, r.Finished(4<<20, 100*time.Millisecond), "bounded by most")
	r = NewTarget(1<<20, 16)
	require.Equal(t, 0, r.Finished(4<<20, 100*time.Millisecond), "never below two")
	require.Equal(t, 2, r.Allowed())
	require.Equal(t, 1, NewTarget(1<<30, 1).Allowed(), "one when one is the most")

	// Without a target, Finished is Done.
	r = New(2, 16)
	require.Equal(t, 0, r.Finished(1, time.Millisecond))
}
