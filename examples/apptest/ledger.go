// Package apptest is an example application package and its tests: how a
// program written against blob.Bucket tests itself on every backend with
// blobtest.Each, and its retry logic with blobtest.Faults.
//
// The application is a small append-only ledger: each entry is one object
// under entries/, written create-only, and Save retries what a service
// may fail for a moment (throttling, internal errors), as every program
// talking to a cloud should.
package apptest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/anyblob/anyblob/blob"
)

// Ledger stores entries in a bucket.
type Ledger struct {
	b blob.Bucket
	// Attempts is how many times Save tries; 0 means 4.
	Attempts int
	// Wait is the pause between attempts; 0 means 50ms.
	Wait time.Duration
}

// New returns a ledger in b.
func New(b blob.Bucket) *Ledger { return &Ledger{b: b} }

// ErrExists is returned by Save for an entry that was saved before.
var ErrExists = errors.New("ledger: entry exists")

// Save stores entry id, once: a second Save of the same id is ErrExists.
// Throttling and internal errors are retried (Attempts, Wait); any other
// error is returned at once.
func (l *Ledger) Save(ctx context.Context, id string, entry []byte) error {
	attempts, wait := l.Attempts, l.Wait
	if attempts == 0 {
		attempts = 4
	}
	if wait == 0 {
		wait = 50 * time.Millisecond
	}
	var err error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		err = blob.WriteAll(ctx, l.b, "entries/"+id, entry, &blob.WriterOptions{IfNotExist: true, ContentType: "application/json"})
		switch {
		case err == nil:
			return nil
		case errors.Is(err, blob.ErrPreconditionFailed):
			return fmt.Errorf("%w: %s", ErrExists, id)
		case errors.Is(err, blob.ErrThrottled), errors.Is(err, blob.ErrInternal):
			continue
		default:
			return err
		}
	}
	return fmt.Errorf("ledger: saving %s after %d attempts: %w", id, attempts, err)
}

// Load returns entry id; a missing one is an error matching
// blob.ErrNotFound.
func (l *Ledger) Load(ctx context.Context, id string) ([]byte, error) {
	r, err := l.b.NewReader(ctx, "entries/"+id, nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// IDs returns every entry's id, sorted.
func (l *Ledger) IDs(ctx context.Context) ([]string, error) {
	var ids []string
	opts := &blob.ListOptions{Prefix: "entries/"}
	for {
		page, err := l.b.List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Objects {
			ids = append(ids, o.Key[len("entries/"):])
		}
		if page.NextPageToken == "" {
			sort.Strings(ids)
			return ids, nil
		}
		opts.PageToken = page.NextPageToken
	}
}
