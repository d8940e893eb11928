package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// rootLong is the help of anyblob itself: what the commands share.
const rootLong = `anyblob reads and writes objects on S3 and S3-compatible servers, Azure Blob,
Google Cloud Storage, a local directory or memory, and copies between them.

Addresses:
  s3://BUCKET/KEY?region=R&endpoint=URL    an object in a bucket; the query holds
  gs://BUCKET/KEY?project=P                the bucket URL's parameters, and the key is
  azblob://CONTAINER/KEY?account=A         the rest of the path up to '?', as written
  mem://NAME/KEY                           (no %-decoding)
  file:///DIR/KEY                          a key under a directory taken as a bucket (see below)
  :KEY                                     KEY on the default bucket
  PATH, -                                  in cp: a local file, standard input or output

  The default bucket is --bucket URL or, without it, the environment's
  (CLOUD_PROVIDER, CLOUD_BUCKET; with neither, the directory ./anyblob-data).
  ls, cat, rm, stat and presign also take a bare KEY on the default bucket.

  In file:///PATH the bucket is the --bucket directory when PATH is inside it,
  else the nearest directory above PATH that holds anyblob's .anyblob folder,
  else the directory PATH is in. The file is PATH whichever it is; the bucket
  decides only where the object's metadata is kept.

  A destination ending in '/' is a folder: the source's name is added to it
  (cp a.csv :reports/ writes reports/a.csv). A source ending in '/' is refused.

Exit status: 0 success, 2 usage error, 3 not found, 4 precondition failed
(an existing key with --if-not-exist, an existing bucket, a bucket not empty),
1 any other failure.`

// newRootCmd builds the command tree for one command line.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var g globals
	root := &cobra.Command{
		Use:     "anyblob [--bucket URL] COMMAND [ARGS]",
		Short:   "Read, write and copy objects on any cloud's buckets",
		Long:    rootLong,
		Version: version(),
		Example: `  anyblob cp report.csv 's3://my-bucket/reports/?region=eu-west-1'
  anyblob --bucket 'gs://my-bucket?project=p' ls -r reports/
  anyblob cp 's3://src/data.bin?region=us-east-1' azblob://backup/data.bin`,
		Args:                       cobra.ArbitraryArgs,
		DisableFlagsInUseLine:      true,
		SuggestionsMinimumDistance: 2,
		SilenceErrors:              true,
		SilenceUsage:               true,
		// Runs only when no command is named, or an unknown one.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("no command given")
			}
			hint := ""
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				hint = fmt.Sprintf("; did you mean %q?", s[0])
			}
			return usagef("unknown command %q%s", args[0], hint)
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("anyblob {{.Version}}\n")
	root.Flags().Bool("version", false, "print the anyblob version and exit")
	root.PersistentFlags().StringVar(&g.bucket, "bucket", "",
		"default bucket URL, for :KEY addresses (default: from CLOUD_PROVIDER / CLOUD_BUCKET)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%s: %v", cmd.Name(), err)
	})
	root.CompletionOptions.HiddenDefaultCmd = false

	for _, c := range []*cobra.Command{
		lsCmd(&g), catCmd(&g), cpCmd(&g), mvCmd(&g), syncCmd(&g), rmCmd(&g), statCmd(&g), duCmd(&g), presignCmd(&g), mbCmd(), rbCmd(),
		whoamiCmd(), signCmd(), tokenCmd(),
	} {
		root.AddCommand(c)
	}
	strictHelp(root)
	return root
}

// globals are the flags every command takes.
type globals struct {
	bucket string // --bucket
}

// strictHelp makes "help CMD" of an unknown CMD a usage error instead of
// cobra's default, which prints the main help and succeeds.
func strictHelp(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() != "help" || c.Run == nil {
			continue
		}
		show := c.Run
		c.Run = nil
		c.RunE = func(c *cobra.Command, args []string) error {
			if found, rest, err := root.Find(args); err != nil || len(rest) > 0 || found == nil {
				return usagef("no command %q; run 'anyblob help' for the list", strings.Join(args, " "))
			}
			show(c, args)
			return nil
		}
	}
}

// nArgs accepts between min and max arguments (max < 0: any number above
// min); otherwise a usage error says what the command needs.
func nArgs(min, max int, need string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || max >= 0 && len(args) > max {
			return usagef("%s needs %s, got %d arguments", cmd.Name(), need, len(args))
		}
		return nil
	}
}

// goStyleFlags rewrites the Go-style single-dash long flags the command
// took before it used cobra (-bucket URL, -content-type=T) into the
// double-dash form, so command lines written for it keep working. Only
// exact names of long flags are rewritten; shorthands (-r, -rf), "-" and
// everything after "--" are left alone.
func goStyleFlags(root *cobra.Command, args []string) []string {
	long := map[string]bool{"help": true, "version": true}
	var collect func(c *cobra.Command)
	collect = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if len(f.Name) > 1 {
					long[f.Name] = true
				}
			})
		}
		for _, sub := range c.Commands() {
			collect(sub)
		}
	}
	collect(root)
	// Never nil: cobra reads os.Args for a nil argument list.
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") {
			name, _, _ := strings.Cut(a[1:], "=")
			if long[name] {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}
