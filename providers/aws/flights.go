package aws

import (
	"context"
	"sync"
)

// flights makes concurrent callers of one request share it while it is in
// flight: the first caller for a key makes it, the others wait for its
// outcome. The checks made before a first write (the server's profile,
// the HEAD of a folder's own name) are such requests: sixteen writers
// starting at once into one folder made sixteen of each, every one a round
// trip on a far link. Nothing is kept once the request is done.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done chan struct{}
	err  error
	// abandoned: err came from the context of the caller that made the
	// request; the callers that waited make it again.
	abandoned bool
}

// do returns the outcome of call for key: its own, or that of the call in
// flight for key when it started. A caller whose ctx ends while it waits
// returns ctx's error.
func (f *flights) do(ctx context.Context, key string, call func(context.Context) error) error {
	for {
		f.mu.Lock()
		if fl := f.m[key]; fl != nil {
			f.mu.Unlock()
			select {
			case <-fl.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if fl.abandoned {
				continue
			}
			return fl.err
		}
		fl := &flight{done: make(chan struct{})}
		if f.m == nil {
			f.m = map[string]*flight{}
		}
		f.m[key] = fl
		f.mu.Unlock()

		fl.err = call(ctx)
		fl.abandoned = ctx.Err() != nil
		f.mu.Lock()
		delete(f.m, key)
		f.mu.Unlock()
		close(fl.done)
		return fl.err
	}
}
