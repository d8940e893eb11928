package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/anyblob/anyblob/blob"
)

// lsOptions are ls's flags.
type lsOptions struct {
	recursive, long, human bool
}

func lsCmd(g *globals) *cobra.Command {
	var o lsOptions
	c := &cobra.Command{
		Use:   "ls [flags] [ADDRESS]",
		Short: "List objects, and the folders under a prefix",
		Long: `List the objects whose keys start with the prefix ADDRESS names (default: the
whole default bucket), one key a line. Without -r, keys are grouped at the next
'/' into folders, shown with their '/'. With -l each line has the size and the
modification time (UTC), folders are marked PRE, and a last line totals the
objects and bytes; -H writes sizes in KiB, MiB, GiB.

An ADDRESS with *, ? or [ is a pattern (quote it from the shell), matched
against whole keys: '*' does not match '/', so 'reports/*.csv' lists
reports/q3.csv and not reports/2026/q3.csv; folders that match are listed as
folders, or, with -r, with what is under them. A pattern that matches nothing
is not found (exit status 3).`,
		Example: `  anyblob ls :reports/
  anyblob ls -lH 'reports/*.csv'
  anyblob ls -r 's3://my-bucket/logs/2026/?region=eu-west-1'`,
		Args: nArgs(0, 1, "at most one prefix"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{":"}
			}
			as, err := objects(g, args, false)
			if err != nil {
				return err
			}
			return withBuckets(g, func(bs *buckets) error { return list(cmd, bs, as[0], o) })
		},
	}
	c.Flags().BoolVarP(&o.recursive, "recursive", "r", false, "list every object under the prefix, without grouping by /")
	c.Flags().BoolVarP(&o.long, "long", "l", false, "print each object's size and modification time, and a total")
	c.Flags().BoolVarP(&o.human, "human", "H", false, "with -l, sizes in KiB, MiB, GiB")
	return c
}

// lister prints ls's lines.
type lister struct {
	out          io.Writer
	o            lsOptions
	count, bytes int64
	seenFolders  map[string]bool
	matched      bool
}

func (l *lister) object(obj blob.ObjectInfo) {
	l.matched = true
	if obj.IsPrefix {
		if l.o.long {
			fmt.Fprintf(l.out, "%12s  %-20s  %s\n", "PRE", "", obj.Key)
		} else {
			fmt.Fprintln(l.out, obj.Key)
		}
		return
	}
	l.count++
	l.bytes += obj.Size
	if l.o.long {
		fmt.Fprintf(l.out, "%12s  %-20s  %s\n", l.size(obj.Size), obj.ModTime.UTC().Format(time.RFC3339), obj.Key)
	} else {
		fmt.Fprintln(l.out, obj.Key)
	}
}

func (l *lister) size(n int64) string {
	if l.o.human {
		return human(n)
	}
	return fmt.Sprint(n)
}

// total prints -l's last line.
func (l *lister) total() {
	if l.o.long {
		fmt.Fprintf(l.out, "TOTAL: %s, %s\n", plural(l.count, "object"), bytesAndHuman(l.bytes))
	}
}

func list(cmd *cobra.Command, bs *buckets, a address, o lsOptions) error {
	ctx := cmd.Context()
	b, err := bs.get(ctx, a)
	if err != nil {
		return err
	}
	l := &lister{out: cmd.OutOrStdout(), o: o}
	if isGlob(a.key) {
		if err := listGlob(ctx, b, a, l); err != nil {
			return err
		}
		l.total()
		return nil
	}
	opts := &blob.ListOptions{Prefix: a.key}
	if !o.recursive {
		opts.Delimiter = "/"
	}
	for obj, err := range blob.Objects(ctx, b, opts) {
		if err != nil {
			return err
		}
		l.object(obj)
	}
	l.total()
	return nil
}

// listGlob lists what the pattern a.key matches: objects, and folders
// (with -r, what is under them), listed from its literal prefix.
func listGlob(ctx context.Context, b blob.Bucket, a address, l *lister) error {
	if err := globPattern(a.key); err != nil {
		return err
	}
	seen := map[string]bool{}
	for obj, err := range blob.Objects(ctx, b, &blob.ListOptions{Prefix: literalPrefix(a.key)}) {
		if err != nil {
			return err
		}
		ok, under, folder := globMatch(a.key, obj.Key, true)
		switch {
		case !ok:
		case !under || l.o.recursive:
			l.object(obj)
		case !seen[folder]:
			seen[folder] = true
			l.object(blob.ObjectInfo{Key: folder, IsPrefix: true})
		}
	}
	if !l.matched {
		return errNotFound{"no object matches " + a.raw}
	}
	return nil
}

// human writes n bytes in binary units: 512 B, 1.5 KiB, 20.0 MiB.
func human(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1024, 0
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	for v >= 1024 && unit < len(units)-1 {
		v /= 1024
		unit++
	}
	return fmt.Sprintf("%.1f %s", v, units[unit])
}

// bytesAndHuman writes n bytes exactly, with the binary units past 1 KiB.
func bytesAndHuman(n int64) string {
	s := plural(n, "byte")
	if n >= 1024 {
		s += " (" + human(n) + ")"
	}
	return s
}

// plural writes n things: 1 object, 2 objects.
func plural(n int64, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// rmOptions are rm's flags.
type rmOptions struct {
	recursive, prefix, dryRun, quiet bool
}

func rmCmd(g *globals) *cobra.Command {
	var o rmOptions
	c := &cobra.Command{
		Use:   "rm [flags] ADDRESS...",
		Short: "Delete objects",
		Long: `Delete each object, printing a line for each (delete: KEY) unless -q. Deleting
an object that does not exist is not an error.

With -r, delete every object under each ADDRESS taken as a folder: rm -r big
deletes big/a.txt and big/sub/b.txt, not bigger.txt; with --prefix, ADDRESS is
a raw prefix and bigger.txt goes too. It prints how many objects it deleted; if
some remain (a server that lists some keys only once others are gone, writers
adding objects), it says how many and fails.

An ADDRESS with *, ? or [ is a pattern (quote it): the objects it matches are
deleted ('*' does not match '/'), and with -r what is under the folders it
matches too. A pattern that matches nothing is not found (exit status 3).

--dry-run prints what would be deleted, and deletes nothing.`,
		Example: `  anyblob rm :reports/q3.csv
  anyblob rm --dry-run -r 's3://my-bucket/tmp?region=eu-west-1'
  anyblob rm ':logs/*.gz'`,
		Args: nArgs(1, -1, "at least one key"),
		RunE: func(cmd *cobra.Command, args []string) error {
			as, err := objects(g, args, false)
			if err != nil {
				return err
			}
			if o.prefix && !o.recursive {
				return usagef("rm: --prefix says how -r takes its arguments; add -r")
			}
			return withBuckets(g, func(bs *buckets) error {
				for _, a := range as {
					if err := remove(cmd, bs, a, o); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	c.Flags().BoolVarP(&o.recursive, "recursive", "r", false, "delete every object under each argument, taken as a folder (ADDRESS/)")
	c.Flags().BoolVar(&o.prefix, "prefix", false, "with -r, take each argument as a raw prefix: -r --prefix big deletes bigger.txt too")
	c.Flags().BoolVar(&o.dryRun, "dry-run", false, "print what would be deleted, delete nothing")
	c.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print nothing but errors")
	return c
}

func remove(cmd *cobra.Command, bs *buckets, a address, o rmOptions) error {
	ctx, out := cmd.Context(), cmd.OutOrStdout()
	if o.quiet && !o.dryRun {
		out = io.Discard
	}
	switch {
	case o.recursive && a.key == "":
		return usagef("rm -r: refusing an empty prefix (it would delete the whole bucket; use rb -f)")
	case a.key == "":
		return usagef("%q names a bucket, not an object; add the key (rb removes a bucket)", a.raw)
	}
	b, err := bs.get(ctx, a)
	if err != nil {
		return err
	}
	dry := ""
	if o.dryRun {
		dry = "(dryrun) "
	}
	switch {
	case isGlob(a.key):
		return removeGlob(ctx, out, b, a, o.recursive, dry)
	case !o.recursive:
		fmt.Fprintf(out, "%sdelete: %s\n", dry, display(a))
		if o.dryRun {
			return nil
		}
		return b.Delete(ctx, a.key)
	}
	prefix := a.key
	if !o.prefix && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if o.dryRun {
		n := int64(0)
		for obj, err := range blob.Objects(ctx, b, &blob.ListOptions{Prefix: prefix}) {
			if err != nil {
				return err
			}
			n++
			fmt.Fprintf(out, "(dryrun) delete: %s\n", display(withKey(a, obj.Key)))
		}
		fmt.Fprintf(out, "(dryrun) would delete %s under %s\n", plural(n, "object"), prefix)
		return nil
	}
	n, err := blob.DeletePrefix(ctx, b, prefix)
	fmt.Fprintf(out, "deleted %s under %s\n", plural(int64(n), "object"), prefix)
	return err
}

// withKey is the object key in a's bucket.
func withKey(a address, key string) address {
	a.key, a.folder = key, false
	a.raw = display(a)
	return a
}

// removeGlob deletes the objects the pattern a.key matches (with
// recursive, what is under the folders it matches too), in batches.
func removeGlob(ctx context.Context, out io.Writer, b blob.Bucket, a address, recursive bool, dry string) error {
	if err := globPattern(a.key); err != nil {
		return err
	}
	var keys []string
	for obj, err := range blob.Objects(ctx, b, &blob.ListOptions{Prefix: literalPrefix(a.key)}) {
		if err != nil {
			return err
		}
		if ok, under, _ := globMatch(a.key, obj.Key, recursive); ok && (!under || recursive) {
			keys = append(keys, obj.Key)
		}
	}
	if len(keys) == 0 {
		return errNotFound{"no object matches " + a.raw}
	}
	for _, k := range keys {
		fmt.Fprintf(out, "%sdelete: %s\n", dry, display(withKey(a, k)))
	}
	if dry != "" {
		return nil
	}
	const batch = 1000
	for i := 0; i < len(keys); i += batch {
		if err := b.(blob.BatchDeleter).DeleteKeys(ctx, keys[i:min(i+batch, len(keys))]); err != nil {
			return fmt.Errorf("deleting the %s matching %s, %d done before this batch: %w", plural(int64(len(keys)), "object"), a.raw, i, err)
		}
	}
	return nil
}
