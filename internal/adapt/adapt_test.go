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
