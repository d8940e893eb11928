package main

import (
	"context"
	"os"
	"path"
	"path/filepath"

	"github.com/spf13/cobra"
)

// cpOptions are the flags of cp, mv and sync.
type cpOptions struct {
	writeOptions
	metadata  []string // --metadata k=v
	recursive bool
	jobs      int
	quiet     bool
	dryRun    bool
	name      string // the command's, for messages
}

// transferFlags adds the flags of every command that transfers files.
func transferFlags(c *cobra.Command, o *cpOptions) {
	o.name = c.Name()
	f := c.Flags()
	f.StringVar(&o.contentType, "content-type", "", "Content-Type of the new objects (default: the source object's; for a file, its extension's, as mime.TypeByExtension says)")
	f.StringVar(&o.cacheControl, "cache-control", "", "Cache-Control of the new objects")
	f.StringVar(&o.contentDisposition, "content-disposition", "", "Content-Disposition of the new objects")
	f.StringArrayVar(&o.metadata, "metadata", nil, "user metadata KEY=VALUE of the new objects, replacing the source's (repeat for more)")
	f.BoolVar(&o.ifNotExist, "if-not-exist", false, "fail (exit status 4) if a destination object exists; the check and the write are atomic")
	f.BoolVarP(&o.noClobber, "no-clobber", "n", false, "skip a destination that exists (an object: atomically, with the write)")
	f.IntVarP(&o.jobs, "jobs", "j", 8, "files transferred at once; files and parts in flight share -j; peak memory is about jobs × the backend's part size (8 MiB on S3)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing but errors: no line a file, no progress bar")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be transferred, transfer nothing")
}

// transferHelp is the help of the flags that transfer files.
const transferHelp = `Each file transferred prints a line (upload: SRC to DST, download:, copy:, as aws
s3 cp does) on standard output, and when standard error is a terminal a progress
bar there shows bytes, rate, time left and files done; -q prints neither. -j
files are transferred at once, sharing -j parts in flight: each file has one, a
large file as many more as are free (one per 8 MiB), so peak memory is about -j
× part size (8 × 8 MiB on S3) and a large file among small ones still moves in
parallel (the largest files start first); the first failure stops the rest. A failed
or interrupted (Ctrl-C) transfer leaves nothing partial at its destination:
uploads in flight are aborted, downloads go to a temporary file renamed into
place when complete, and the command waits for every abort before it exits.

A file's content type is its extension's (.csv text/csv, .html text/html) unless
--content-type is given; a copied object keeps its source's content headers and
metadata unless --content-type, --cache-control, --content-disposition or
--metadata replaces them. --cache-control and --content-disposition make a copy
within one bucket go through the command rather than the server.`

// xfer makes the transfer runner of a command.
func (o *cpOptions) xfer(cmd *cobra.Command, bs *buckets) (*xfer, error) {
	meta, err := parseMetadata(o.metadata)
	if err != nil {
		return nil, err
	}
	if o.ifNotExist && o.noClobber {
		return nil, usagef("%s: --if-not-exist fails on an existing destination and -n skips it; choose one", cmd.Name())
	}
	if o.jobs < 1 {
		return nil, usagef("%s: -j %d: transfer at least one file at a time", cmd.Name(), o.jobs)
	}
	w := o.writeOptions
	w.metadata = meta
	return &xfer{
		bs: bs, w: w, jobs: o.jobs, dryRun: o.dryRun,
		rep:   newReporter(cmd.OutOrStdout(), cmd.ErrOrStderr(), o.quiet),
		stdin: cmd.InOrStdin(), stdout: cmd.OutOrStdout(),
	}, nil
}

// setsObject reports whether a flag given applies only to an object
// destination.
func (o *cpOptions) setsObject() bool {
	return o.contentType != "" || o.cacheControl != "" || o.contentDisposition != "" || len(o.metadata) > 0 || o.ifNotExist
}

func cpCmd(g *globals) *cobra.Command {
	var o cpOptions
	c := &cobra.Command{
		Use:   "cp [flags] SRC... DST",
		Short: "Copy objects and files: local ↔ bucket, bucket ↔ bucket, cloud ↔ cloud",
		Long: `Copy objects or files. SRC and DST are each a bucket URL with a key
(s3://BUCKET/KEY?region=R, gs://, azblob://, mem://, file:///DIR/KEY), :KEY on
the default bucket, a local path, or - for standard input (SRC) or output
(DST); at least one end is an object.

Two objects in the same bucket are copied by the server. Objects in different
buckets, on one cloud or two, are streamed from one to the other with the
source's content headers and metadata, never through a temporary file.

A DST ending in '/' (or an existing local directory) is a folder: SRC's last
name is added (cp a.csv :reports/ writes reports/a.csv; cp :reports/a.csv dl/
writes dl/a.csv).

With -r, what is under the folder SRC is copied under DST, as aws s3 cp
--recursive does (cp -r photos :backup writes backup/a.jpg for photos/a.jpg;
cp -r :logs dl copies logs/..., not logs-old/...). A SRC with *, ? or [ is a
pattern (quote it from the shell): each object (or file) it matches is copied
into the folder DST, named relative to the pattern's last literal folder
('reports/*.csv' copies reports/q3.csv to DST/q3.csv); '*' does not match '/',
and with -r a pattern also matches folders, whose contents are copied. In a
bucket URL, '?' begins the query: match one character with [?] ... or use
:KEY. Several SRCs (a shell's expansion) are copied into the folder DST.

` + transferHelp,
		Example: `  anyblob cp report.csv :reports/
  anyblob cp -r ./site 's3://my-bucket/www/?region=eu-west-1' --cache-control max-age=300
  anyblob cp ':reports/*.csv' dl/
  anyblob cp -r -n gs://src-bucket/data azblob://backup/data
  tar c dir | anyblob cp --content-type application/x-tar - azblob://backups/dir.tar`,
		Args: nArgs(2, -1, "a source and a destination"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCopies(cmd, g, &o, args, "", nil)
		},
	}
	transferFlags(c, &o)
	c.Flags().BoolVarP(&o.recursive, "recursive", "r", false, "copy what is under the folder SRC (and under the folders a pattern matches)")
	return c
}

// sourcesAndDest reads the addresses of cp and mv: every argument but the
// last a source, the last the destination. Unless noStdio is "", standard
// input or output is refused with that hint (mv cannot move a stream).
// runCopies is cp's and mv's run: it reads the addresses (noStdio as
// sourcesAndDest takes it), plans the copies and runs them; adjust, when
// set, may refuse or change the jobs first (mv marks them moves).
func runCopies(cmd *cobra.Command, g *globals, o *cpOptions, args []string, noStdio string, adjust func(bs *buckets, jobs []job) error) error {
	srcs, dst, err := sourcesAndDest(g, args, noStdio)
	if err != nil {
		return err
	}
	return withBuckets(g, func(bs *buckets) error {
		x, err := o.xfer(cmd, bs)
		if err != nil {
			return err
		}
		jobs, err := planCopy(cmd.Context(), bs, srcs, dst, o)
		if err != nil {
			return err
		}
		if adjust != nil {
			if err := adjust(bs, jobs); err != nil {
				return err
			}
		}
		return x.run(cmd.Context(), jobs)
	})
}

func sourcesAndDest(g *globals, args []string, noStdio string) ([]address, address, error) {
	r := resolver{defaultBucket: g.bucket}
	srcs := make([]address, 0, len(args)-1)
	for _, arg := range args[:len(args)-1] {
		src, err := r.cpArg(arg)
		if err != nil {
			return nil, address{}, err
		}
		if noStdio != "" && src.kind == addrStdio {
			return nil, address{}, usagef("standard input cannot be a source; %s", noStdio)
		}
		srcs = append(srcs, src)
	}
	dst, err := r.cpArg(args[len(args)-1])
	if err != nil {
		return nil, address{}, err
	}
	if noStdio != "" && dst.kind == addrStdio {
		return nil, address{}, usagef("standard output cannot be a destination; %s", noStdio)
	}
	return srcs, dst, nil
}

// planCopy lists the copies of cp (and mv): one, or, for several
// sources, -r or a pattern, each file or object under them into the
// folder dst.
func planCopy(ctx context.Context, bs *buckets, srcs []address, dst address, o *cpOptions) ([]job, error) {
	if dst.kind != addrObject && o.setsObject() {
		return nil, usagef("%s: --content-type, --cache-control, --content-disposition, --metadata and --if-not-exist apply to an object destination, not %q", o.name, dst.raw)
	}
	if len(srcs) == 1 && !o.recursive && !isGlobArg(srcs[0]) {
		j, err := planOne(srcs[0], dst, o)
		return []job{j}, err
	}
	if dst.kind == addrStdio {
		return nil, usagef("%s: several files cannot go to standard output; name a folder", o.name)
	}
	folder := asFolder(dst)
	var jobs []job
	for _, src := range srcs {
		if src.kind == addrStdio {
			return nil, usagef("%s: standard input can only be copied alone, to an object", o.name)
		}
		if src.kind != addrObject && dst.kind != addrObject {
			return nil, usagef("%s: neither %q nor %q is an object; write objects as :KEY or a bucket URL (s3://BUCKET/KEY)", o.name, src.raw, dst.raw)
		}
		t, err := expand(ctx, bs, src, o.recursive)
		if err != nil {
			return nil, err
		}
		if len(t.items) == 0 {
			return nil, errNotFound{"nothing under " + src.raw + " to copy"}
		}
		for _, it := range t.items {
			s, err := under(t.base, it.rel)
			if err != nil {
				return nil, err
			}
			d, err := under(folder, it.rel)
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, job{op: kindOf(s, d), src: s, dst: d, size: it.size})
		}
	}
	return jobs, nil
}

// planOne is the copy of one source named as it is.
func planOne(src, dst address, o *cpOptions) (job, error) {
	if src.kind != addrObject && dst.kind != addrObject {
		return job{}, usagef("%s: neither %q nor %q is an object; write objects as :KEY or a bucket URL (s3://BUCKET/KEY)", o.name, src.raw, dst.raw)
	}
	if src.folder {
		return job{}, usagef("%s: %s is a folder, not one object: add -r to copy what is under it", o.name, src.raw)
	}
	if dst.folder {
		var err error
		if dst, err = into(dst, src, o.name); err != nil {
			return job{}, err
		}
	}
	size := int64(-1)
	if src.kind == addrLocal {
		if st, err := os.Stat(src.path); err == nil {
			size = st.Size()
		}
	}
	return job{op: kindOf(src, dst), src: src, dst: dst, size: size}, nil
}

// into returns the address in the folder dst that src is copied to: dst
// with src's last name added.
func into(dst, src address, cmd string) (address, error) {
	var name string
	switch src.kind {
	case addrStdio:
		return address{}, usagef("%s: standard input has no name to add to the folder %s; name the destination (%sNAME)", cmd, dst.raw, dst.raw)
	case addrLocal:
		name = filepath.Base(src.path)
	case addrObject:
		name = path.Base(src.key)
	}
	if name == "." || name == ".." || name == "/" || name == string(filepath.Separator) {
		return address{}, usagef("%s: %s has no name to add to the folder %s; name the destination in full", cmd, src.raw, dst.raw)
	}
	dst.folder = false
	if dst.kind == addrObject {
		dst.key += name
	} else {
		dst.path = filepath.Join(dst.path, name)
	}
	return dst, nil
}
