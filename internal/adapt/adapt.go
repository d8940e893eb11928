// Package adapt decides how many parts of a transfer may be in flight:
// more while the rate grows, no more once it does not. Parallel reads
// (internal/pread) and section uploads (internal/upload) share it.
//
// A round is twice as many parts as are allowed: the first half lets the
// parts started under the limit before finish, the second half is timed.
// When its rate is a sixth or more above the round before, half as many
// parts again are allowed (at least 2), up to the bound; otherwise the
// transfer settles where it is. The first round always grows (there is no
// round before it), so a transfer that starts too low finds out within
// two rounds.
//
// A transfer may instead aim at a throughput the caller sets, as the AWS
// CRT client's target throughput: NewTarget starts it with two parts,
// and the first part to finish sets how many the target needs (ForTarget
// of its own rate, one connection's), after which it settles.
package adapt

import (
	"math"
	"sync"
	"time"
)

// grows is how much faster a round must be than the one before for more
// parts to be allowed.
const grows = 7.0 / 6

// Rounds is the state of one transfer. Its methods are safe for
// concurrent use.
type Rounds struct {
	mu      sync.Mutex
	allowed int
	most    int
	settled bool
	target  int64     // bytes per second aimed at (NewTarget); 0 adapts
	parts   int       // parts finished in the round
	bytes   int64     // bytes of the timed half
	start   time.Time // when the timed half began
	last    float64   // bytes per second of the round before
}

// New starts a transfer with start parts allowed, at most most (start is
// moved into [1, most]).
func New(start, most int) *Rounds {
	most = max(most, 1)
	return &Rounds{allowed: min(max(start, 1), most), most: most, settled: start >= most}
}

// NewTarget starts a transfer that aims at target bytes per second: two
// parts allowed (one when most is 1) until the first part finishes (see
// Finished), at most most.
func NewTarget(target int64, most int) *Rounds {
	most = max(most, 1)
	return &Rounds{allowed: min(2, most), most: most, target: target}
}

// ForTarget is how many connections of perConn bytes per second reach
// target: at least 2, at most most (most when perConn is unknown, 0).
func ForTarget(target int64, perConn float64, most int) int {
	n := most
	if perConn > 0 {
		n = int(math.Ceil(float64(target) / perConn))
	}
	return max(2, min(n, most))
}

// Finished records a finished part of n bytes that took d, and returns
// how many more parts may be in flight from now on. For a transfer made
// by New it is Done(n); for one made by NewTarget, the first part sets
// the count, ForTarget of n/d, and the transfer settles.
func (r *Rounds) Finished(n int64, d time.Duration) int {
	r.mu.Lock()
	if r.target <= 0 {
		r.mu.Unlock()
		return r.Done(n)
	}
	defer r.mu.Unlock()
	if r.settled {
		return 0
	}
	r.settled = true
	want := ForTarget(r.target, float64(n)/max(d.Seconds(), 1e-9), r.most)
	more := max(want-r.allowed, 0)
	r.allowed += more
	return more
}

// Allowed is how many parts may be in flight now.
func (r *Rounds) Allowed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.allowed
}

// Settle stops the growing: Done returns 0 from now on.
func (r *Rounds) Settle() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settled = true
}

// Done records a finished part of n bytes and returns how many more parts
// may be in flight from now on: 0, or the growth at the end of a round.
func (r *Rounds) Done(n int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.settled {
		return 0
	}
	r.parts++
	if r.parts <= r.allowed {
		if r.parts == r.allowed {
			r.start = time.Now()
		}
		return 0
	}
	r.bytes += n
	if r.parts < 2*r.allowed {
		return 0
	}
	rate := float64(r.bytes) / max(time.Since(r.start).Seconds(), 1e-9)
	more := 0
	if rate >= r.last*grows && r.allowed < r.most {
		more = min(max(2, r.allowed/2), r.most-r.allowed)
		r.allowed += more
	} else {
		r.settled = true
	}
	r.last = rate
	r.parts, r.bytes = 0, 0
	return more
}
