package gcp

import (
	"context"
	"net/url"
	"os"
	"strconv"

	"github.com/anyblob/anyblob/blob"
)

func init() { blob.Register(Scheme, openURL) }

func openURL(ctx context.Context, u *url.URL) (blob.Bucket, error) {
	name, opts, err := FromURL(u, os.Getenv)
	if err != nil {
		return nil, err
	}
	return OpenBucket(ctx, name, opts)
}

// FromURL turns a gs:// URL and the environment (read only through getenv,
// and only here) into a bucket name and Options:
//
//	gs://BUCKET?project=P&endpoint=URL&anonymous=true
//
// With no endpoint parameter, STORAGE_EMULATOR_HOST ("host:port" or a URL)
// selects an emulator, reached without credentials. An unknown parameter
// or a bad value is ErrInvalidArgument naming it.
func FromURL(u *url.URL, getenv func(string) string) (string, Options, error) {
	var opts Options
	if u.Host == "" {
		return "", opts, blob.Errorf(blob.ErrInvalidArgument, "gs: URL %q names no bucket (want gs://BUCKET)", u.Redacted())
	}
	if u.Path != "" && u.Path != "/" {
		return "", opts, blob.Errorf(blob.ErrInvalidArgument, "gs: URL %q has a path; name only the bucket (use blob.Prefixed for a prefix)", u.Redacted())
	}
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "project":
			opts.Project = v
		case "endpoint":
			opts.Endpoint = v
		case "anonymous":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return "", opts, blob.Errorf(blob.ErrInvalidArgument, "gs: URL parameter anonymous=%q is not a boolean", v)
			}
			opts.Anonymous = b
		default:
			return "", opts, blob.Errorf(blob.ErrInvalidArgument, "gs: unknown URL parameter %q (known: project, endpoint, anonymous)", k)
		}
	}
	if opts.Endpoint == "" {
		if host := getenv("STORAGE_EMULATOR_HOST"); host != "" {
			opts.Endpoint = host
			if _, err := url.Parse(host); err != nil || !hasScheme(host) {
				opts.Endpoint = "http://" + host
			}
			opts.Anonymous = true
		}
	}
	if opts.Project == "" {
		opts.Project = getenv("GOOGLE_CLOUD_PROJECT")
	}
	return u.Host, opts, nil
}

func hasScheme(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
