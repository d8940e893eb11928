package auth

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// RefreshWindow is how long before expiry a Cache fetches new credentials;
// a random jitter of up to RefreshJitter more spreads the refreshes of many
// processes.
const (
	RefreshWindow = 5 * time.Minute
	RefreshJitter = time.Minute
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
// expired, Get returns those. A Cache is safe for concurrent use; create it
// with NewCache.
type Cache[T any] struct {
	fetch FetchFunc[T]
	now   func() time.Time

	mu       sync.Mutex
	val      T
	has      bool
	expires  time.Time
	refresh  time.Time // when to fetch again; zero when expires is zero
	inflight *flight[T]
}

type flight[T any] struct {
	done    chan struct{}
	val     T
	expires time.Time
	err     error
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
// fetch's, or ctx's when it ends first.
func (c *Cache[T]) Get(ctx context.Context) (T, error) {
	c.mu.Lock()
	now := c.now()
	if c.has && (c.refresh.IsZero() || now.Before(c.refresh)) {
		v := c.val
		c.mu.Unlock()
		return v, nil
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
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.has && (c.expires.IsZero() || c.now().Before(c.expires)) {
			return c.val, nil // still valid: keep using them
		}
		var zero T
		return zero, f.err
	}
	return f.val, nil
}

func (c *Cache[T]) run(ctx context.Context, f *flight[T]) {
	f.val, f.expires, f.err = c.fetch(ctx)
	c.mu.Lock()
	if f.err == nil {
		c.val, c.has, c.expires = f.val, true, f.expires
		c.refresh = time.Time{}
		if !f.expires.IsZero() {
			jitter := time.Duration(rand.Int64N(int64(RefreshJitter)))
			c.refresh = f.expires.Add(-RefreshWindow - jitter)
		}
	}
	c.inflight = nil
	c.mu.Unlock()
	close(f.done)
}

// Invalidate drops the held credentials, so the next Get fetches (after a
// server refused them, say).
func (c *Cache[T]) Invalidate() {
	c.mu.Lock()
	var zero T
	c.val, c.has, c.expires, c.refresh = zero, false, time.Time{}, time.Time{}
	c.mu.Unlock()
}
