package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/anyblob/anyblob/blob"
)

// flagSet is a flag.FlagSet whose parse errors are usage errors and which
// prints nothing itself.
type flagSet struct{ *flag.FlagSet }

func newFlagSet(name string) flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return flagSet{fs}
}

func (f flagSet) Parse(args []string) error {
	if err := f.FlagSet.Parse(args); err != nil {
		return usagef("%s: %v", f.Name(), err)
	}
	return nil
}

func cmdLs(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("ls")
	recursive := fs.Bool("r", false, "list every object under the prefix, without grouping by /")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("ls takes at most one prefix, got %d arguments", fs.NArg())
	}
	opts := &blob.ListOptions{Prefix: fs.Arg(0)}
	if !*recursive {
		opts.Delimiter = "/"
	}
	return e.withBucket(func(b blob.Bucket) error {
		for obj, err := range blob.Objects(ctx, b, opts) {
			if err != nil {
				return err
			}
			if obj.IsPrefix {
				fmt.Fprintf(e.stdout, "%12s  %-20s  %s\n", "PRE", "", obj.Key)
				continue
			}
			fmt.Fprintf(e.stdout, "%12d  %-20s  %s\n", obj.Size, obj.ModTime.UTC().Format(time.RFC3339), obj.Key)
		}
		return nil
	})
}

func cmdCat(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("cat needs at least one key")
	}
	return e.withBucket(func(b blob.Bucket) error {
		for _, key := range args {
			if err := blob.Download(ctx, b, key, e.stdout); err != nil {
				return err
			}
		}
		return nil
	})
}

// objectArg reports whether a cp argument names an object (":key") and
// returns the key.
func objectArg(s string) (string, bool) {
	if strings.HasPrefix(s, ":") {
		return s[1:], true
	}
	return "", false
}

func cmdCp(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("cp")
	contentType := fs.String("content-type", "", "Content-Type of the new object")
	ifNotExist := fs.Bool("if-not-exist", false, "fail (exit 4) if the destination object exists")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("cp needs a source and a destination, got %d arguments", fs.NArg())
	}
	src, dst := fs.Arg(0), fs.Arg(1)
	srcKey, srcObj := objectArg(src)
	dstKey, dstObj := objectArg(dst)
	if !srcObj && !dstObj {
		return usagef("cp: neither %q nor %q is an object; write objects as :key", src, dst)
	}
	return e.withBucket(func(b blob.Bucket) error {
		switch {
		case srcObj && dstObj:
			return b.Copy(ctx, dstKey, srcKey, &blob.CopyOptions{IfNotExist: *ifNotExist, ContentType: *contentType})
		case dstObj:
			return upload(ctx, e, b, src, dstKey, &blob.WriterOptions{IfNotExist: *ifNotExist, ContentType: *contentType})
		default:
			if *ifNotExist || *contentType != "" {
				return usagef("cp: -if-not-exist and -content-type apply to an object destination")
			}
			return download(ctx, e, b, srcKey, dst)
		}
	})
}

func upload(ctx context.Context, e *env, b blob.Bucket, src, key string, opts *blob.WriterOptions) error {
	var r io.Reader = e.stdin
	if src != "-" {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	return blob.Upload(ctx, b, key, r, opts)
}

// download writes the object to path through a temporary file renamed at
// the end, so a failed download leaves no partial file behind.
func download(ctx context.Context, e *env, b blob.Bucket, key, path string) error {
	if path == "-" {
		return blob.Download(ctx, b, key, e.stdout)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, filepath.Base(filepath.FromSlash(key)))
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".anyblob-*")
	if err != nil {
		return err
	}
	err = blob.Download(ctx, b, key, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

func cmdRm(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("rm")
	recursive := fs.Bool("r", false, "delete every object under each argument taken as a prefix")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("rm needs at least one key")
	}
	return e.withBucket(func(b blob.Bucket) error {
		for _, key := range fs.Args() {
			if *recursive {
				if key == "" {
					return usagef("rm -r: refusing an empty prefix (it would delete the whole bucket)")
				}
				n, err := blob.DeletePrefix(ctx, b, key)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "deleted %d objects under %s\n", n, key)
				continue
			}
			if err := b.Delete(ctx, key); err != nil {
				return err
			}
		}
		return nil
	})
}

// statJSON is what stat prints for one object.
type statJSON struct {
	Key                string            `json:"key"`
	Size               int64             `json:"size"`
	ModTime            time.Time         `json:"modTime"`
	ETag               string            `json:"etag,omitempty"`
	ContentType        string            `json:"contentType,omitempty"`
	ContentEncoding    string            `json:"contentEncoding,omitempty"`
	ContentDisposition string            `json:"contentDisposition,omitempty"`
	ContentLanguage    string            `json:"contentLanguage,omitempty"`
	CacheControl       string            `json:"cacheControl,omitempty"`
	MD5                []byte            `json:"md5,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
}

func cmdStat(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("stat needs at least one key")
	}
	return e.withBucket(func(b blob.Bucket) error {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		var errs []error
		for _, key := range args {
			a, err := b.Attributes(ctx, key)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if err := enc.Encode(statJSON{
				Key: key, Size: a.Size, ModTime: a.ModTime.UTC(), ETag: a.ETag,
				ContentType: a.ContentType, ContentEncoding: a.ContentEncoding,
				ContentDisposition: a.ContentDisposition, ContentLanguage: a.ContentLanguage,
				CacheControl: a.CacheControl, MD5: a.MD5, Metadata: a.Metadata,
			}); err != nil {
				return err
			}
		}
		return errors.Join(errs...)
	})
}

func cmdPresign(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("presign")
	method := fs.String("method", "GET", "HTTP method the URL allows: GET, PUT or DELETE")
	expires := fs.Duration("expires", time.Hour, "how long the URL stays valid (1s to 168h)")
	contentType := fs.String("content-type", "", "Content-Type a PUT must send")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("presign needs exactly one key, got %d arguments", fs.NArg())
	}
	return e.withBucket(func(b blob.Bucket) error {
		u, err := b.SignedURL(ctx, fs.Arg(0), &blob.SignedURLOptions{
			Method: strings.ToUpper(*method), Expiry: *expires, ContentType: *contentType,
		})
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, u)
		return nil
	})
}

// cmdMb creates the buckets named by URL (or, with none, the -bucket or
// environment's bucket is not guessed: a URL is required).
func cmdMb(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("mb needs a bucket URL (s3://name?region=R, azblob://container, gs://name?project=P, file:///dir)")
	}
	for _, u := range args {
		if err := blob.CreateBucket(ctx, u); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created %s\n", u)
	}
	return nil
}

// cmdRb removes the buckets named by URL; -f deletes their objects first.
func cmdRb(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("rb")
	force := fs.Bool("f", false, "delete every object in the bucket first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("rb needs a bucket URL")
	}
	for _, u := range fs.Args() {
		if *force {
			b, err := blob.OpenBucket(ctx, u)
			if err != nil {
				return err
			}
			n, err := blob.DeletePrefix(ctx, b, "")
			b.Close()
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "deleted %d objects in %s\n", n, u)
		}
		if err := blob.RemoveBucket(ctx, u); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s\n", u)
	}
	return nil
}
