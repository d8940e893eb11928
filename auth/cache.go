package auth

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// RefreshWindow is how long before expiry a Cache fetches new credentials;
// a random jitter of up to RefreshJitter more spreads the refreshes of many
// processes.
//
// RetryAfterFailure is how long a Cache waits, after a failed refresh while
// its credentials are still valid, before it tries again.
const (
	RefreshWindow     = 5 * time.Minute
	RefreshJitter     = time.Minute
	RetryAfterFailure = 10 * time.Second
)

// FetchFunc fetches fresh credentials and says when they expire (the zero
// time: never).
type FetchFunc[T any] func(ctx context.Context) (T, time.Time, error)

// Cache holds credentials of type T and fetches new ones when they are
// missing, expired or within RefreshWindow (plus jitter) of expiry, with
// single-flight refresh: however many goroutines ask at once, one fetch
// runs and all share its result. The fetch is not canceled when the caller
// that started it gives up (its context's values are kept, its
// cancellation is not); each caller stops waiting when its own context
// ends. When a refresh fails while the held credentials have not yet
// expired, Get returns those, and the next refresh is tried
// RetryAfterFailure later. Credentials expire at their expiry instant
// (valid while now is before it). A Cache is safe for concurrent use; create it
// with NewCache.
type Cache[T any] struct {
	fetch FetchFunc[T]
	now   func() time.Time

	// snap is the held credentials; nil when there are none. Readers load
	// it without a lock.
	snap atomic.Pointer[snapshot[T]]

	mu       sync.Mutex // guards inflight
	inflight *flight[T]
}

// snapshot is one fetch's result.
type snapshot[T any] struct {
	val     T
	expires time.Time // zero: never
	refresh time.Time // when to fetch again; zero when expires is zero
}

// usable reports whether the snapshot needs no refresh at now.
func (s *snapshot[T]) usable(now time.Time) bool {
	return s != nil && (s.refresh.IsZero() || now.Before(s.refresh))
}

// valid reports whether the snapshot has not expired at now.
func (s *snapshot[T]) valid(now time.Time) bool {
	return s != nil && (s.expires.IsZero() || now.Before(s.expires))
}

type flight[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// NewCache returns a cache that fetches with fetch. now, when not nil,
// replaces time.Now (for tests).
func NewCache[T any](fetch FetchFunc[T], now func() time.Time) *Cache[T] {
	if now == nil {
		now = time.Now
	}
	return &Cache[T]{fetch: fetch, now: now}
}

// Get returns valid credentials, fetching them if needed. Errors are the
// fetch's, or ctx's when it ends first. Held credentials that need no
// refresh are returned without taking a lock.
func (c *Cache[T]) Get(ctx context.Context) (T, error) {
	if s := c.snap.Load(); s.usable(c.now()) {
		return s.val, nil
	}
	c.mu.Lock()
	if s := c.snap.Load(); s.usable(c.now()) { // a fetch ended meanwhile
		c.mu.Unlock()
		return s.val, nil
	}
	f := c.inflight
	if f == nil {
		f = &flight[T]{done: make(chan struct{})}
		c.inflight = f
		go c.run(context.WithoutCancel(ctx), f)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	if f.err != nil {
		if s := c.snap.Load(); s.valid(c.now()) {
			return s.val, nil // still valid: keep using them
		}
		var zero T
		return zero, f.err
	}
	return f.val, nil
}

func (c *Cache[T]) run(ctx context.Context, f *flight[T]) {
	var expires time.Time
	f.val, expires, f.err = c.fetch(ctx)
	c.mu.Lock()
	if f.err == nil {
		s := &snapshot[T]{val: f.val, expires: expires}
		if !expires.IsZero() {
			jitter := time.Duration(rand.Int64N(int64(RefreshJitter)))
			s.refresh = expires.Add(-RefreshWindow - jitter)
		}
		c.snap.Store(s)
	} else if s := c.snap.Load(); s.valid(c.now()) {
		// Keep the still-valid credentials, and let the upstream rest
		// RetryAfterFailure before the next try, so that a busy caller
		// does not send it one fetch after another.
		held := *s
		held.refresh = c.now().Add(RetryAfterFailure)
		if !held.expires.IsZero() && held.refresh.After(held.expires) {
			held.refresh = held.expires // never hand out expired credentials
		}
		c.snap.Store(&held)
	}
	c.inflight = nil
	c.mu.Unlock()
	close(f.done)
}

// Invalidate drops the held credentials, so the next Get fetches (after a
// server refused them, say).
func (c *Cache[T]) Invalidate() {
	c.snap.Store(nil)
}
