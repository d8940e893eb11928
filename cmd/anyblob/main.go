// Command anyblob reads and writes objects on any bucket anyblob can open:
// S3 and S3-compatible servers, Azure Blob, Google Cloud Storage, a local
// directory or memory.
//
// The bucket is the one the -bucket flag names by URL (s3://b?region=...,
// azblob://c, gs://b, file:///dir, mem://name) or, without the flag, the
// one the environment names (CLOUD_PROVIDER, CLOUD_BUCKET and each cloud's
// own variables; with none set, the local directory ./anyblob-data).
//
// Usage:
//
//	anyblob [-bucket URL] ls [-r] [prefix]      list objects (and prefixes, unless -r)
//	anyblob [-bucket URL] cat key...            write objects to standard output
//	anyblob [-bucket URL] cp SRC DST            copy; an object is written :key, - is stdin/stdout
//	anyblob [-bucket URL] rm [-r] key...        delete objects (-r: every object under each prefix)
//	anyblob [-bucket URL] stat key...           print attributes as JSON
//	anyblob [-bucket URL] presign [-method GET] [-expires 1h] key
//	anyblob mb URL...                            create buckets (containers, directories)
//	anyblob rb [-f] URL...                       remove empty buckets (-f: delete their objects first)
//
// In cp, an argument starting with ':' is an object in the bucket; anything
// else is a local file path, and '-' is standard input or output. Copying
// object to object is a server-side Copy; uploads stream and are atomic
// (nothing is visible unless the whole source was read), with -if-not-exist
// for a create-only write and -content-type to set the type.
//
// The exit status is 0 on success, 2 for a usage error, 3 when an object is
// not found, 4 when a precondition failed (cp -if-not-exist on an existing
// key), and 1 for any other failure.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/anyblob/anyblob/blob"
	_ "github.com/anyblob/anyblob/providers/all"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks a command-line mistake; its message is the explanation.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usagef(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

const usage = `usage: anyblob [-bucket URL] COMMAND [ARGS]

commands:
  ls [-r] [prefix]                      list objects (and prefixes, unless -r)
  cat key...                            write objects to standard output
  cp [-content-type T] [-if-not-exist] SRC DST
                                        copy; :key is an object, - is stdin/stdout
  rm [-r] key...                        delete objects (-r: everything under each prefix)
  stat key...                           print attributes as JSON
  presign [-method M] [-expires D] [-content-type T] key
                                        print a signed URL
  mb URL...                             create buckets: s3://b?region=R, azblob://c, gs://b?project=P, file:///dir
  rb [-f] URL...                        remove empty buckets (-f: delete their objects first)

Without -bucket, the bucket comes from CLOUD_PROVIDER and CLOUD_BUCKET
(default: the local directory ./anyblob-data).
`

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, stdin, stdout)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "anyblob:", err)
	var u errUsage
	switch {
	case errors.As(err, &u):
		fmt.Fprint(stderr, "\n", usage)
		return 2
	case errors.Is(err, blob.ErrNotFound):
		return 3
	case errors.Is(err, blob.ErrPreconditionFailed):
		return 4
	}
	return 1
}

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlagSet("anyblob")
	bucketURL := fs.String("bucket", "", "bucket URL (default: from CLOUD_PROVIDER / CLOUD_BUCKET)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("no command given")
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	cmd, ok := commands[name]
	if !ok {
		return usagef("unknown command %q", name)
	}
	open := func() (blob.Bucket, error) {
		if *bucketURL != "" {
			return blob.OpenBucket(ctx, *bucketURL)
		}
		return blob.OpenFromEnv(ctx)
	}
	return cmd(ctx, &env{open: open, stdin: stdin, stdout: stdout}, rest)
}

// env is what a command needs from its surroundings.
type env struct {
	open   func() (blob.Bucket, error)
	stdin  io.Reader
	stdout io.Writer
}

// withBucket opens the bucket, runs f and closes the bucket, reporting the
// first error.
func (e *env) withBucket(f func(b blob.Bucket) error) error {
	b, err := e.open()
	if err != nil {
		return err
	}
	err = f(b)
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	return err
}

var commands map[string]func(ctx context.Context, e *env, args []string) error

func init() {
	commands = map[string]func(ctx context.Context, e *env, args []string) error{
		"ls":      cmdLs,
		"cat":     cmdCat,
		"cp":      cmdCp,
		"rm":      cmdRm,
		"stat":    cmdStat,
		"presign": cmdPresign,
		"mb":      cmdMb,
		"rb":      cmdRb,
	}
}
