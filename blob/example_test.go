package blob_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/anyblob/anyblob/blob"
	_ "github.com/anyblob/anyblob/blob/memblob" // mem://
)

func ExampleOpenBucket() {
	ctx := context.Background()
	b, err := blob.OpenBucket(ctx, "mem://example-open")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	if err := blob.WriteAll(ctx, b, "reports/2026/q3.csv", []byte("region,total\n"), &blob.WriterOptions{ContentType: "text/csv"}); err != nil {
		fmt.Println(err)
		return
	}
	data, err := blob.ReadAll(ctx, b, "reports/2026/q3.csv")
	fmt.Printf("%q %v\n", data, err)

	_, err = b.Attributes(ctx, "reports/missing.csv")
	fmt.Println(errors.Is(err, blob.ErrNotFound))
	// Output:
	// "region,total\n" <nil>
	// true
}

func ExampleObjects() {
	ctx := context.Background()
	b, _ := blob.OpenBucket(ctx, "mem://example-objects")
	defer b.Close()
	for _, k := range []string{"a/1", "a/2", "b/1", "top"} {
		_ = blob.WriteAll(ctx, b, k, []byte(k), nil)
	}
	for obj, err := range blob.Objects(ctx, b, &blob.ListOptions{Delimiter: "/"}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(obj.Key, obj.IsPrefix)
	}
	// Output:
	// a/ true
	// b/ true
	// top false
}

func ExampleWriterOptions_ifNotExist() {
	ctx := context.Background()
	b, _ := blob.OpenBucket(ctx, "mem://example-create-only")
	defer b.Close()
	createOnly := &blob.WriterOptions{IfNotExist: true}
	fmt.Println(blob.WriteAll(ctx, b, "lock", []byte("mine"), createOnly))
	err := blob.WriteAll(ctx, b, "lock", []byte("theirs"), createOnly)
	fmt.Println(errors.Is(err, blob.ErrPreconditionFailed))
	// Output:
	// <nil>
	// true
}

func ExamplePrefixed() {
	ctx := context.Background()
	b, _ := blob.OpenBucket(ctx, "mem://example-prefixed")
	defer b.Close()
	tenant := blob.Prefixed(b, "tenant-42/")
	_ = blob.WriteAll(ctx, tenant, "invoice.pdf", []byte("%PDF"), nil)
	ok, _ := blob.Exists(ctx, b, "tenant-42/invoice.pdf")
	fmt.Println(ok)
	// Output: true
}

func ExampleLogTo() {
	ctx := context.Background()
	// A handler without the time, so the output is the same every run.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
	b, _ := blob.OpenBucket(ctx, "mem://example-log")
	defer b.Close()
	b = blob.Observe(b, blob.LogTo(logger, nil))
	_, _ = b.Attributes(ctx, "missing")
	// Output:
	// level=DEBUG msg="blob op" op=attributes provider=mem bucket=example-log bytes=0 error.type=not_found error="blob: attributes mem://example-log: not found: no such object"
}

// DownloadAt writes an object into a file where each byte belongs; a large
// object read in parallel has each part written as it arrives.
func ExampleDownloadAt() {
	ctx := context.Background()
	b, err := blob.OpenBucket(ctx, "mem://")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	if err := blob.WriteAll(ctx, b, "report.csv", []byte("a,b\n1,2\n"), nil); err != nil {
		fmt.Println(err)
		return
	}
	f, err := os.CreateTemp("", "report-*.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	n, err := blob.DownloadAt(ctx, b, "report.csv", f)
	if err != nil {
		fmt.Println(err)
		return
	}
	got, _ := os.ReadFile(f.Name())
	fmt.Printf("%d bytes: %q\n", n, got)
	// Output: 8 bytes: "a,b\n1,2\n"
}
