// Command anyblob reads and writes objects on any bucket anyblob can open:
// S3 and S3-compatible servers, Azure Blob, Google Cloud Storage, a local
// directory or memory, and copies between any two of them.
//
// Usage:
//
//	anyblob ls [-r] [-l [-H]] [ADDRESS]    list objects (and folders, unless -r); -l sizes and times
//	anyblob cat [--range S-E] ADDRESS...   write objects, or byte ranges, to standard output
//	anyblob cp [-r] [-n] SRC... DST        copy: local ↔ bucket, bucket ↔ bucket, patterns
//	anyblob mv [-r] SRC... DST             copy, then delete the source
//	anyblob sync [--delete] SRC DST        copy what changed between two folders
//	anyblob rm [-r [--prefix]] ADDRESS...  delete objects (-r: every object under each folder)
//	anyblob du [-H] [ADDRESS...]           total size and count under folders
//	anyblob stat ADDRESS...                print attributes as JSON
//	anyblob presign [--method GET] [--expires 1h] ADDRESS
//	anyblob mb URL...                  create buckets (containers, directories)
//	anyblob rb [-f] URL...             remove empty buckets (-f: delete their objects first)
//	anyblob completion SHELL           print a shell completion script
//	anyblob help [COMMAND]             the help of a command, with its flags and an example
//
// "anyblob COMMAND --help" (or -h, or "anyblob help COMMAND") prints a
// command's help to standard output; "anyblob --version" prints the
// module version the go command recorded (the release tag of go install
// ...@vX.Y.Z; "(devel)" when built from a checkout). Flags may come
// before or after the arguments; Go-style single-dash long flags
// (-bucket, -content-type) are accepted as well as --bucket.
//
// # Addresses
//
// An object is named by a bucket URL with a key, or by ":KEY" on the
// default bucket. In a bucket URL the first path segment is the bucket
// and the rest, up to '?', is the key exactly as written (no
// %-decoding, as aws s3 cp takes it); the query holds the parameters of
// the bucket URL the library opens (blob.OpenBucket):
//
//	s3://BUCKET/KEY?region=R&endpoint=URL
//	gs://BUCKET/KEY?project=P
//	azblob://CONTAINER/KEY?account=A
//	mem://NAME/KEY
//	file:///DIR/KEY?create_dir=true
//
// In a file URL the bucket is a directory, found from the path: the
// --bucket directory when it is a file URL the path lies in, else the
// nearest directory above the path that anyblob has written to as a
// bucket (it holds the hidden .anyblob folder, or an escaped layout's
// lock), else the directory the named file is in. Since a key is its own
// path under the directory, file:///data/b/reports/q3.csv is the file
// /data/b/reports/q3.csv whichever directory is the bucket; the rule
// decides only where its metadata is kept.
//
// The default bucket is the one --bucket names by URL (with no key) or,
// without the flag, the one the environment names (CLOUD_PROVIDER,
// CLOUD_BUCKET and each cloud's own variables; with none set, the local
// directory ./anyblob-data). ls, cat, rm, stat and presign also take a
// bare KEY on the default bucket; in cp an argument that is neither a
// URL nor :KEY is a local path, and "-" is standard input or output.
//
// A destination ending in '/' (or an existing local directory) is a
// folder: the source's last name is added to it, as aws s3 cp does
// (cp report.csv :reports/ writes reports/report.csv; cp
// :reports/x.csv dl/ writes dl/x.csv, creating dl). A source ending in
// '/' is a folder, which cp copies only with -r: what is under it goes
// under the destination folder, as aws s3 cp --recursive does. rm -r, du
// and sync take a prefix as a folder too: rm -r big deletes big/...,
// never bigger.txt.
//
// # Patterns
//
// A key with '*', '?' or '[' in cp, mv, ls, rm and du is a pattern
// matched against whole keys with path.Match: '*' does not match '/'.
// The bucket is listed from the pattern's longest literal prefix. What
// it matches is copied into the destination folder, named relative to
// the pattern's last literal folder. A pattern that matches nothing is
// not found (exit status 3).
//
// # Transfers
//
// cp, mv and sync run -j transfers at once (default 8), sharing -j parts
// in flight: each file takes one, and a large file as many more as are
// free (one per 8 MiB, as blob.WriterOptions and ReaderOptions
// Concurrency), so peak memory is about -j × the backend's part size and
// a large file among small ones is still sent in parallel. Each prints a line on standard
// output (upload: SRC to DST) unless -q, and when standard error is a
// terminal a progress bar (github.com/schollz/progressbar/v3) shows the
// bytes, rate, time left and files done. The first failure, or Ctrl-C,
// cancels every transfer in flight; their writes abort and the command
// waits for them before it exits.
//
// # Copies
//
// Two objects in the same bucket are copied on the server (Copy); objects
// in different buckets, on one cloud or two, are streamed from a reader
// into a writer, with the source's content headers and metadata, never
// through a temporary file of the whole object. Uploads stream too. A
// failed or interrupted copy (Ctrl-C) leaves no object behind: the write
// is aborted, and a download goes to a temporary file in the destination
// folder that is renamed into place only when complete. Downloaded files
// are created with mode 0666 less the process umask, as any program's.
//
// # Exit status
//
// 0 on success (help included), 2 for a usage error (an unknown command
// or flag, a wrong number of arguments, an address cp cannot use), 3
// when an object, bucket or local file is not found, 4 when a
// precondition failed (cp --if-not-exist on an existing key, mb of an
// existing bucket, rb of a bucket that holds objects), and 1 for any
// other failure. Errors are one line on standard error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"runtime/debug"

	"github.com/anyblob/anyblob/blob"
	_ "github.com/anyblob/anyblob/providers/all"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() {
		// After the first Ctrl-C, which cancels the command (aborting its
		// writes), a second one stops the process at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK           = 0
	exitFailure      = 1
	exitUsage        = 2
	exitNotFound     = 3
	exitPrecondition = 4
)

// errUsage marks a command-line mistake; its message is the explanation.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usagef(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(goStyleFlags(root, args))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	msg := err.Error()
	if code == exitUsage {
		msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
	}
	fmt.Fprintln(stderr, "anyblob:", msg)
	return code
}

// exitCode is the exit status for a command's error.
func exitCode(err error) int {
	var u errUsage
	switch {
	case errors.As(err, &u):
		return exitUsage
	case errors.Is(err, blob.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return exitNotFound
	case errors.Is(err, blob.ErrPreconditionFailed):
		return exitPrecondition
	}
	return exitFailure
}

// version is the module version the binary was built from, as the go
// command recorded it: the release tag for "go install
// github.com/anyblob/anyblob/cmd/anyblob@v1.2.3"; "(devel)", or a
// pseudo-version the go command derives from the commit, when built from a
// checkout.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
