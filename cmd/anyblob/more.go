package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/anyblob/anyblob/blob"
)

// byteRange is cat's --range, or --offset and --length.
type byteRange struct {
	spec           string // --range
	offset, length int64  // --offset, --length (-1: to the end)
}

// resolve returns the offset and length to read of an object of the
// given size (needed only for a suffix range, -N).
func (r byteRange) resolve(size func() (int64, error)) (offset, length int64, err error) {
	if r.spec == "" {
		return r.offset, r.length, nil
	}
	start, end, ok := strings.Cut(r.spec, "-")
	bad := usagef("cat: --range %q: write START-END (bytes START to END, both included), START- (to the end) or -N (the last N bytes)", r.spec)
	if !ok || start == "" && end == "" {
		return 0, 0, bad
	}
	if start == "" { // -N: the last N bytes
		n, err := strconv.ParseInt(end, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, bad
		}
		s, err := size()
		if err != nil {
			return 0, 0, err
		}
		return max(s-n, 0), -1, nil
	}
	first, err := strconv.ParseInt(start, 10, 64)
	if err != nil || first < 0 {
		return 0, 0, bad
	}
	if end == "" {
		return first, -1, nil
	}
	last, err := strconv.ParseInt(end, 10, 64)
	if err != nil || last < first {
		return 0, 0, bad
	}
	return first, last - first + 1, nil
}

func catCmd(g *globals) *cobra.Command {
	r := byteRange{length: -1}
	c := &cobra.Command{
		Use:   "cat [flags] ADDRESS...",
		Short: "Write objects, or byte ranges of them, to standard output",
		Long: `Write each object to standard output, one after the other. --range (or
--offset and --length) writes only those bytes of each; a range past the end
writes what there is.`,
		Example: `  anyblob cat :reports/q3.csv
  anyblob cat --range 0-99 gs://my-bucket/big.log      # the first 100 bytes
  anyblob cat --range -1024 :logs/today.log            # the last KiB
  anyblob cat --offset 4096 --length 512 :disk.img`,
		Args: nArgs(1, -1, "at least one key"),
		RunE: func(cmd *cobra.Command, args []string) error {
			as, err := objects(g, args, true)
			if err != nil {
				return err
			}
			f := cmd.Flags()
			if r.spec != "" && (f.Changed("offset") || f.Changed("length")) {
				return usagef("cat: --range or --offset/--length, not both")
			}
			if r.offset < 0 || r.length < -1 {
				return usagef("cat: --offset and --length count bytes from 0; --length -1 reads to the end")
			}
			return withBuckets(g, func(bs *buckets) error {
				for _, a := range as {
					if err := catOne(cmd.Context(), bs, a, r, cmd.OutOrStdout()); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	c.Flags().StringVar(&r.spec, "range", "", "bytes to write: START-END (both included), START- or -N (the last N)")
	c.Flags().Int64Var(&r.offset, "offset", 0, "the first byte to write")
	c.Flags().Int64Var(&r.length, "length", -1, "how many bytes to write (-1: to the end)")
	return c
}

func catOne(ctx context.Context, bs *buckets, a address, r byteRange, out io.Writer) error {
	b, err := bs.get(ctx, a)
	if err != nil {
		return err
	}
	offset, length, err := r.resolve(func() (int64, error) {
		at, err := b.Attributes(ctx, a.key)
		if err != nil {
			return 0, err
		}
		return at.Size, nil
	})
	if err != nil {
		return err
	}
	if offset == 0 && length < 0 {
		return blob.Download(ctx, b, a.key, out)
	}
	rd, err := b.NewRangeReader(ctx, a.key, offset, length, nil)
	if err != nil {
		return err
	}
	defer rd.Close()
	if _, err := io.Copy(out, rd); err != nil {
		return err
	}
	return rd.Close()
}

func duCmd(g *globals) *cobra.Command {
	var human, prefix bool
	c := &cobra.Command{
		Use:   "du [flags] [ADDRESS...]",
		Short: "Total size and count of the objects under folders",
		Long: `Print the total size and the number of the objects under each ADDRESS, taken
as a folder as rm -r takes it (du big counts big/..., not bigger.txt; --prefix
takes it as a raw prefix), or that a pattern matches (with what is under the
folders it matches). Without ADDRESS, the whole default bucket. -H writes sizes
in KiB, MiB, GiB.`,
		Example: `  anyblob du -H :reports
  anyblob du 's3://my-bucket/logs/2026-*?region=eu-west-1'`,
		Args: nArgs(0, -1, "folders"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{":"}
			}
			as, err := objects(g, args, false)
			if err != nil {
				return err
			}
			return withBuckets(g, func(bs *buckets) error {
				for _, a := range as {
					if err := du(cmd, bs, a, human, prefix); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	c.Flags().BoolVarP(&human, "human", "H", false, "sizes in KiB, MiB, GiB")
	c.Flags().BoolVar(&prefix, "prefix", false, "take each ADDRESS as a raw prefix, not a folder")
	return c
}

func du(cmd *cobra.Command, bs *buckets, a address, inUnits, prefix bool) error {
	ctx := cmd.Context()
	b, err := bs.get(ctx, a)
	if err != nil {
		return err
	}
	p, glob := a.key, isGlob(a.key)
	switch {
	case glob:
		if err := globPattern(a.key); err != nil {
			return err
		}
		p = literalPrefix(a.key)
	case !prefix && p != "" && !strings.HasSuffix(p, "/"):
		p += "/"
	}
	var n, size int64
	for obj, err := range blob.Objects(ctx, b, &blob.ListOptions{Prefix: p}) {
		if err != nil {
			return err
		}
		if glob {
			if ok, _, _ := globMatch(a.key, obj.Key, true); !ok {
				continue
			}
		}
		n++
		size += obj.Size
	}
	if glob && n == 0 {
		return errNotFound{"no object matches " + a.raw}
	}
	s := strconv.FormatInt(size, 10)
	if inUnits {
		s = human(size)
	}
	name := display(withKey(a, p))
	if glob {
		name = a.raw
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\t%s\n", s, plural(n, "object"), name)
	return nil
}

func mvCmd(g *globals) *cobra.Command {
	var o cpOptions
	c := &cobra.Command{
		Use:   "mv [flags] SRC... DST",
		Short: "Move objects and files: copy, then delete the source",
		Long: `Move objects or files: copy each as cp does (the same addresses, -r, patterns
and flags), then delete its source once the copy is complete. Within one bucket
the copy is done by the server. A source whose copy fails is kept; with -n a
source whose destination exists is kept too.

` + transferHelp,
		Example: `  anyblob mv :inbox/report.csv :archive/
  anyblob mv -r ./outgoing 's3://my-bucket/in/?region=eu-west-1'
  anyblob mv ':tmp/*.csv' gs://other-bucket/csv/`,
		Args: nArgs(2, -1, "a source and a destination"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCopies(cmd, g, &o, args, "mv moves objects and files; use cp", func(bs *buckets, jobs []job) error {
				for i := range jobs {
					j := &jobs[i]
					if j.src.kind == addrObject && j.dst.kind == addrObject && bs.id(j.src) == bs.id(j.dst) && j.src.key == j.dst.key {
						return usagef("mv: %s and %s are the same object", j.src.raw, j.dst.raw)
					}
					j.move = true
				}
				return nil
			})
		},
	}
	transferFlags(c, &o)
	c.Flags().BoolVarP(&o.recursive, "recursive", "r", false, "move what is under the folder SRC (and under the folders a pattern matches)")
	return c
}
