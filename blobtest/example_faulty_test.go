package blobtest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/memblob"
	"github.com/anyblob/anyblob/blobtest"
)

// A test checks that the caller's own retry loop survives a service that
// throttles the first two writes.
func ExampleFaulty() {
	ctx := context.Background()
	b := blobtest.Faulty(memblob.New("example"),
		blobtest.Fault{Op: blob.OpWrite, Err: blob.ErrThrottled, Times: 2})
	defer b.Close()

	// The code under test: retry while the service throttles.
	save := func(key string, data []byte) error {
		var err error
		for attempt := 1; attempt <= 5; attempt++ {
			err = blob.WriteAll(ctx, b, key, data, nil)
			if !errors.Is(err, blob.ErrThrottled) {
				return err
			}
			fmt.Printf("attempt %d: throttled\n", attempt)
		}
		return err
	}

	if err := save("greeting", []byte("hello")); err != nil {
		fmt.Println("gave up:", err)
		return
	}
	data, err := blob.ReadAll(ctx, b, "greeting")
	fmt.Println(string(data), err)
	// Output:
	// attempt 1: throttled
	// attempt 2: throttled
	// hello <nil>
}

// NewFaults keeps counters, and the same seed strikes the same calls.
func ExampleNewFaults() {
	ctx := context.Background()
	f := blobtest.NewFaults(7, blobtest.Fault{Op: blob.OpAttributes, KeyPrefix: "flaky/", Probability: 0.5})
	b := f.Bucket(memblob.New("example"))
	defer b.Close()
	_ = blob.WriteAll(ctx, b, "flaky/a", []byte("a"), nil)

	pattern := ""
	for range 10 {
		if _, err := b.Attributes(ctx, "flaky/a"); err != nil {
			pattern += "x"
		} else {
			pattern += "."
		}
	}
	fmt.Println(pattern)
	fmt.Println("calls:", f.Calls(blob.OpAttributes), "writes:", f.Calls(blob.OpWrite), "struck:", f.Injected())
	f.Reset()
	_, err := b.Attributes(ctx, "flaky/a")
	fmt.Println("after Reset:", err)
	// Output:
	// x.x..x.x.x
	// calls: 10 writes: 1 struck: 5
	// after Reset: <nil>
}
