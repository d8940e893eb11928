package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/anyblob/anyblob/auth"
)

// BenchmarkCacheGet measures the hot path: valid credentials held, many
// goroutines asking at once.
func BenchmarkCacheGet(b *testing.B) {
	c := auth.NewCache(func(context.Context) (string, time.Time, error) {
		return "creds", time.Now().Add(time.Hour), nil
	}, nil)
	ctx := context.Background()
	if _, err := c.Get(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
