package aws

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
)

func init() { blob.Register(Scheme, openURL) }

// openURL is the s3:// opener: it reads the environment, then builds the
// bucket from the URL.
func openURL(ctx context.Context, u *url.URL) (blob.Bucket, error) {
	name, opts, err := FromURL(u, os.Getenv)
	if err != nil {
		return nil, err
	}
	return OpenBucket(name, opts)
}

// FromURL turns an s3:// URL and the environment (read only through getenv)
// into a bucket name and Options:
//
//	s3://BUCKET?region=R&endpoint=URL&use_path_style=true&escape_keys=true&anonymous=true
//
// region falls back to AWS_REGION, then AWS_DEFAULT_REGION. endpoint falls
// back to AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL (both ignored when
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true); with none, AWS S3 over https.
// Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with
// AWS_SESSION_TOKEN). An unknown parameter, a bad boolean, a missing
// region or missing credentials are ErrInvalidArgument naming the problem.
func FromURL(u *url.URL, getenv func(string) string) (string, Options, error) {
	var opts Options
	if u.Scheme != Scheme {
		return "", opts, blob.Errorf(blob.ErrInvalidArgument, "s3: URL scheme %q is not %q", u.Scheme, Scheme)
	}
	name := u.Host
	if name == "" {
		return "", opts, blob.Errorf(blob.ErrInvalidArgument, "s3: URL %q names no bucket (want s3://BUCKET)", u.Redacted())
	}
	if u.Path != "" && u.Path != "/" {
		return "", opts, blob.Errorf(blob.ErrInvalidArgument, "s3: URL %q has a path; name only the bucket (use blob.Prefixed for a prefix)", u.Redacted())
	}
	anonymous := false
	for k, vs := range u.Query() {
		v := ""
		if len(vs) > 0 {
			v = vs[len(vs)-1]
		}
		switch k {
		case "region":
			opts.Region = v
		case "endpoint":
			opts.Endpoint = v
		case "use_path_style", "anonymous", "escape_keys":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return "", opts, blob.Errorf(blob.ErrInvalidArgument, "s3: URL parameter %s=%q is not a boolean", k, v)
			}
			switch k {
			case "anonymous":
				anonymous = b
			case "escape_keys":
				opts.EscapeKeys = b
			default:
				opts.UsePathStyle = b
			}
		default:
			return "", opts, blob.Errorf(blob.ErrInvalidArgument, "s3: unknown URL parameter %q (known: region, endpoint, use_path_style, escape_keys, anonymous)", k)
		}
	}
	if opts.Region == "" {
		opts.Region = firstEnv(getenv, "AWS_REGION", "AWS_DEFAULT_REGION")
	}
	if opts.Endpoint == "" && !strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		opts.Endpoint = firstEnv(getenv, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
	}
	if opts.Region == "" {
		return "", opts, blob.Errorf(blob.ErrInvalidArgument, "s3: no region for bucket %q: add ?region= or set AWS_REGION", name)
	}
	if anonymous {
		opts.Anonymous = true
		return name, opts, nil
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return "", opts, blob.Errorf(blob.ErrUnauthenticated, "s3: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add ?anonymous=true for a public bucket")
	}
	opts.Credentials = sigv4.StaticCredentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: getenv("AWS_SESSION_TOKEN"), Source: "env"}
	return name, opts, nil
}

func firstEnv(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v
		}
	}
	return ""
}
