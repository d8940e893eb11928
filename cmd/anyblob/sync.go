package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"
)

func syncCmd(g *globals) *cobra.Command {
	var (
		o   cpOptions
		del bool
	)
	c := &cobra.Command{
		Use:   "sync [flags] SRC DST",
		Short: "Make a folder's copy the same as the folder: copy what changed",
		Long: `Copy each file or object under the folder SRC that is missing or changed under
the folder DST, named relative to the folders as cp -r does; with --delete,
delete what is under DST and not under SRC. SRC and DST are a local directory
and a bucket folder (either way), or two bucket folders on one cloud or two;
a bucket folder is a prefix taken as a folder (:logs is logs/).

A file and an object differ when their sizes differ or the source is newer
than the destination (an upload is newer than its file; a download gets its
object's modification time). Two objects differ when their sizes differ, or,
their ETags differing, their MD5s do when both are known (an S3 multipart
upload's is not: then the source differs when it is newer). So a second sync
with nothing changed copies nothing.

--dry-run prints what would be copied and deleted, and does nothing.

` + transferHelp,
		Example: `  anyblob sync ./site 's3://my-bucket/www?region=eu-west-1' --delete
  anyblob sync :backups ./backups
  anyblob sync --dry-run 's3://src/data?region=us-east-1' gs://dst/data`,
		Args: nArgs(2, 2, "a source and a destination folder"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := resolver{defaultBucket: g.bucket}
			src, err := r.cpArg(args[0])
			if err != nil {
				return err
			}
			dst, err := r.cpArg(args[1])
			if err != nil {
				return err
			}
			return withBuckets(g, func(bs *buckets) error {
				x, err := o.xfer(cmd, bs)
				if err != nil {
					return err
				}
				copies, deletes, err := planSync(cmd.Context(), bs, src, dst, &o)
				if err != nil {
					return err
				}
				if err := x.run(cmd.Context(), copies); err != nil {
					return err
				}
				if !del {
					return nil
				}
				return x.run(cmd.Context(), deletes)
			})
		},
	}
	transferFlags(c, &o)
	c.Flags().BoolVar(&del, "delete", false, "delete what is under DST and not under SRC (after the copies, and only if they all succeeded)")
	return c
}

// planSync lists the copies that make dst the same as src, and the
// deletes of what dst has and src has not.
func planSync(ctx context.Context, bs *buckets, src, dst address, o *cpOptions) (copies, deletes []job, err error) {
	switch {
	case src.kind == addrStdio || dst.kind == addrStdio:
		return nil, nil, usagef("sync: folders only, not standard input or output")
	case src.kind != addrObject && dst.kind != addrObject:
		return nil, nil, usagef("sync: neither %q nor %q is in a bucket; write a bucket folder as :PREFIX or a bucket URL", src.raw, dst.raw)
	case dst.kind != addrObject && o.setsObject():
		return nil, nil, usagef("sync: --content-type, --cache-control, --content-disposition, --metadata and --if-not-exist apply to a bucket destination, not %q", dst.raw)
	}
	src, dst = asFolder(src), asFolder(dst)
	if src.kind == addrObject && dst.kind == addrObject && bs.id(src) == bs.id(dst) && src.key == dst.key {
		return nil, nil, usagef("sync: %s and %s are the same folder", src.raw, dst.raw)
	}
	from, err := syncTree(ctx, bs, src, true)
	if err != nil {
		return nil, nil, err
	}
	to, err := syncTree(ctx, bs, dst, false)
	if err != nil {
		return nil, nil, err
	}
	have := make(map[string]item, len(to.items))
	for _, it := range to.items {
		have[it.rel] = it
	}
	want := make(map[string]bool, len(from.items))
	for _, it := range from.items {
		want[it.rel] = true
		d, exists := have[it.rel]
		need, check := true, false
		if exists {
			need, check = differs(it, d, src.kind, dst.kind)
		}
		if !need {
			continue
		}
		s, err := under(from.base, it.rel)
		if err != nil {
			return nil, nil, err
		}
		t, err := under(to.base, it.rel)
		if err != nil {
			return nil, nil, err
		}
		copies = append(copies, job{op: kindOf(s, t), src: s, dst: t, size: it.size, check: check})
	}
	for _, it := range to.items {
		if want[it.rel] {
			continue
		}
		t, err := under(to.base, it.rel)
		if err != nil {
			return nil, nil, err
		}
		deletes = append(deletes, job{op: opDelete, dst: t, size: 0})
	}
	return copies, deletes, nil
}

// syncTree lists a sync's folder; a local destination that does not exist
// yet is empty.
func syncTree(ctx context.Context, bs *buckets, a address, isSource bool) (tree, error) {
	if a.kind == addrObject {
		return listTree(ctx, bs, a)
	}
	st, err := os.Stat(a.path)
	switch {
	case !isSource && errors.Is(err, fs.ErrNotExist):
		return tree{base: a}, nil
	case err != nil:
		return tree{}, err
	case !st.IsDir():
		return tree{}, usagef("sync: %s is a file; sync copies folders (cp copies a file)", a.raw)
	}
	return walkTree(a)
}

// differs reports whether s must be copied over d; check: only if their
// MD5s differ, which the job finds out (sizes and ETags cannot tell).
func differs(s, d item, from, to addrKind) (copy, check bool) {
	if s.size != d.size {
		return true, false
	}
	if from == addrObject && to == addrObject {
		if s.etag != "" && s.etag == d.etag {
			return false, false
		}
		return true, true
	}
	return newer(s.modTime, d.modTime), false
}

// newer reports whether a is after b to the second: S3 and Azure keep
// modification times to the second, so a file written in the second of
// its upload would be newer than its object at every sync.
func newer(a, b time.Time) bool {
	return a.Truncate(time.Second).After(b.Truncate(time.Second))
}
