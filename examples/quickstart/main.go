// Command quickstart writes, lists, reads and deletes objects through
// blob.OpenFromEnv. With no environment set it runs on the local directory
// ./anyblob-data; set CLOUD_PROVIDER and CLOUD_BUCKET (and the cloud's own
// variables) to run the same code on S3, Azure, GCS or memory:
//
//	go run ./examples/quickstart
//	CLOUD_PROVIDER=mem go run ./examples/quickstart
//	CLOUD_PROVIDER=aws CLOUD_BUCKET=my-bucket AWS_REGION=eu-west-1 go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/anyblob/anyblob/blob"
	_ "github.com/anyblob/anyblob/providers/all"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run does the whole tour on the bucket the environment names and removes
// what it wrote.
func run(ctx context.Context, out io.Writer) error {
	b, err := blob.OpenFromEnv(ctx)
	if err != nil {
		return err
	}
	defer b.Close()

	const prefix = "quickstart/"
	files := map[string]string{
		prefix + "hello.txt":       "hello, anyblob\n",
		prefix + "notes/a.txt":     "first note\n",
		prefix + "notes/b.txt":     "second note\n",
		prefix + "data/readme.txt": "nested\n",
	}
	for key, body := range files {
		if err := blob.WriteAll(ctx, b, key, []byte(body), &blob.WriterOptions{
			ContentType: "text/plain; charset=utf-8",
			Metadata:    map[string]string{"written-by": "quickstart"},
		}); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "wrote %d objects\n", len(files))

	// A create-only write loses when the key exists.
	err = blob.WriteAll(ctx, b, prefix+"hello.txt", []byte("again"), &blob.WriterOptions{IfNotExist: true})
	if !errors.Is(err, blob.ErrPreconditionFailed) {
		return fmt.Errorf("IfNotExist on an existing key: want ErrPreconditionFailed, got %v", err)
	}
	fmt.Fprintln(out, "create-only write of an existing key: precondition failed, as it should")

	fmt.Fprintf(out, "listing %s with delimiter /:\n", prefix)
	for obj, err := range blob.Objects(ctx, b, &blob.ListOptions{Prefix: prefix, Delimiter: "/"}) {
		if err != nil {
			return err
		}
		if obj.IsPrefix {
			fmt.Fprintf(out, "  %s (prefix)\n", obj.Key)
		} else {
			fmt.Fprintf(out, "  %s (%d bytes)\n", obj.Key, obj.Size)
		}
	}

	data, err := blob.ReadAll(ctx, b, prefix+"hello.txt")
	if err != nil {
		return err
	}
	attrs, err := b.Attributes(ctx, prefix+"hello.txt")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "read %s: %q (%s, written-by=%s)\n", prefix+"hello.txt", data, attrs.ContentType, attrs.Metadata["written-by"])

	n, err := blob.DeletePrefix(ctx, b, prefix)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "deleted %d objects\n", n)
	if _, err := b.Attributes(ctx, prefix+"hello.txt"); !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("after delete: want ErrNotFound, got %v", err)
	}
	return nil
}
