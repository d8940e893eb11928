package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/anyblob/anyblob/blob"
)

// withBuckets runs f with the buckets of one command, closed when it
// returns.
func withBuckets(g *globals, f func(bs *buckets) error) error {
	bs := newBuckets(g)
	return bs.close(f(bs))
}

// objects resolves the object addresses of a command's arguments. With
// needKey, an address that names a whole bucket is a usage error.
func objects(g *globals, args []string, needKey bool) ([]address, error) {
	r := resolver{defaultBucket: g.bucket}
	out := make([]address, 0, len(args))
	for _, arg := range args {
		a, err := r.object(arg)
		if err != nil {
			return nil, err
		}
		if needKey && a.key == "" {
			return nil, usagef("%q names a bucket, not an object; add the key", arg)
		}
		out = append(out, a)
	}
	return out, nil
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
	MD5                string            `json:"md5,omitempty"` // hex, as S3 ETags write it
	StorageClass       string            `json:"storageClass,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
}

func statCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "stat ADDRESS...",
		Short: "Print objects' attributes as JSON",
		Long: `Print the attributes of each object (size, modification time, ETag, content
headers, MD5, metadata, storage class) as a JSON object. The ETag is as the
service gives it, quotes included; the MD5 is in hex, so a one-part S3 object's
ETag is its MD5 in quotes. The objects that exist are printed
even when some do not; the exit status then says not found.`,
		Example: `  anyblob stat :reports/q3.csv
  anyblob stat azblob://my-container/logo.png`,
		Args: nArgs(1, -1, "at least one key"),
		RunE: func(cmd *cobra.Command, args []string) error {
			as, err := objects(g, args, true)
			if err != nil {
				return err
			}
			return withBuckets(g, func(bs *buckets) error { return stat(cmd, bs, as) })
		},
	}
}

func stat(cmd *cobra.Command, bs *buckets, as []address) error {
	ctx := cmd.Context()
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	var errs []error
	for _, a := range as {
		b, err := bs.get(ctx, a)
		if err != nil {
			return err
		}
		at, err := b.Attributes(ctx, a.key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := enc.Encode(statJSON{
			Key: a.key, Size: at.Size, ModTime: at.ModTime.UTC(), ETag: at.ETag,
			ContentType: at.ContentType, ContentEncoding: at.ContentEncoding,
			ContentDisposition: at.ContentDisposition, ContentLanguage: at.ContentLanguage,
			CacheControl: at.CacheControl, MD5: hex.EncodeToString(at.MD5), Metadata: at.Metadata,
			StorageClass: at.StorageClass,
		}); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		// One line: the first failure stands for the others.
		if len(errs) > 1 {
			return fmt.Errorf("%w (and %d more)", errs[0], len(errs)-1)
		}
		return errs[0]
	}
	return nil
}

func presignCmd(g *globals) *cobra.Command {
	var (
		method, contentType string
		expires             time.Duration
	)
	c := &cobra.Command{
		Use:   "presign [flags] ADDRESS",
		Short: "Print a signed URL for an object",
		Long: `Print a URL that lets its holder GET, PUT or DELETE the object without
credentials until it expires. S3, Azure Blob and Google Cloud Storage sign URLs;
a local directory and memory cannot.`,
		Example: `  anyblob presign --expires 15m :reports/q3.csv
  anyblob presign --method PUT --content-type text/csv 's3://my-bucket/in/new.csv?region=eu-west-1'`,
		Args: nArgs(1, 1, "exactly one key"),
		RunE: func(cmd *cobra.Command, args []string) error {
			as, err := objects(g, args, true)
			if err != nil {
				return err
			}
			return withBuckets(g, func(bs *buckets) error {
				b, err := bs.get(cmd.Context(), as[0])
				if err != nil {
					return err
				}
				u, err := b.SignedURL(cmd.Context(), as[0].key, &blob.SignedURLOptions{
					Method: strings.ToUpper(method), Expiry: expires, ContentType: contentType,
				})
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), u)
				return nil
			})
		},
	}
	c.Flags().StringVar(&method, "method", "GET", "HTTP method the URL allows: GET, PUT or DELETE")
	c.Flags().DurationVar(&expires, "expires", time.Hour, "how long the URL stays valid (1s to 168h)")
	c.Flags().StringVar(&contentType, "content-type", "", "Content-Type a PUT must send")
	return c
}

// bucketURLs is the help shared by mb and rb.
const bucketURLs = `  s3://NAME?region=R[&endpoint=URL]   azblob://CONTAINER[?account=A]
  gs://NAME?project=P                  file:///DIR`

func mbCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "mb URL...",
		Short: "Create buckets (containers, directories)",
		Long: `Create each bucket a URL names, with the cloud's credentials and defaults:
` + bucketURLs + `
A bucket that exists already is a precondition failure (exit status 4).
Memory buckets exist once named and cannot be made.`,
		Example: `  anyblob mb 's3://my-new-bucket?region=eu-west-1'`,
		Args:    nArgs(1, -1, "a bucket URL (s3://name?region=R, azblob://container, gs://name?project=P, file:///dir)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, u := range args {
				if err := blob.CreateBucket(cmd.Context(), u); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created %s\n", u)
			}
			return nil
		},
	}
}

func rbCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "rb [flags] URL...",
		Short: "Remove empty buckets",
		Long: `Remove each bucket a URL names:
` + bucketURLs + `
A bucket that holds objects is refused (exit status 4) unless -f is given,
which deletes its objects first.`,
		Example: `  anyblob rb -f gs://scratch-bucket`,
		Args:    nArgs(1, -1, "a bucket URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, u := range args {
				if err := removeBucket(cmd, u, force); err != nil {
					return err
				}
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "delete every object in the bucket first")
	return c
}

func removeBucket(cmd *cobra.Command, u string, force bool) error {
	ctx := cmd.Context()
	if force {
		if err := emptyBucket(ctx, cmd, u); err != nil {
			return err
		}
	}
	if err := blob.RemoveBucket(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", u)
	return nil
}

func emptyBucket(ctx context.Context, cmd *cobra.Command, u string) error {
	b, err := blob.OpenBucket(ctx, u)
	if err != nil {
		return err
	}
	n, err := blob.DeletePrefix(ctx, b, "")
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "deleted %d objects in %s\n", n, u)
	return nil
}
