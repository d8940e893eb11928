package aws

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/awscred"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/urlopt"
)

func init() {
	blob.Register(blob.Provider{Name: "aws", Scheme: Scheme, Aliases: []string{"s3"}, Open: openURL,
		CreateBucket: func(ctx context.Context, u *url.URL) error {
			return adminURL(ctx, u, (*Client).CreateBucket)
		},
		RemoveBucket: func(ctx context.Context, u *url.URL) error {
			return adminURL(ctx, u, (*Client).DeleteBucket)
		},
	})
}

// adminURL runs a bucket call of Client for the bucket u names, with the
// client u and the environment describe (as the opener does).
func adminURL(ctx context.Context, u *url.URL, call func(*Client, context.Context, string) error) error {
	name, opts, err := FromURL(u, os.Getenv)
	if err != nil {
		return err
	}
	c, err := New(ctx, opts)
	if err != nil {
		return blob.DetailError(err, errorDetail(err))
	}
	err = call(c, ctx, name)
	return blob.DetailError(err, errorDetail(err))
}

// openURL is the s3:// opener: it reads the environment, then builds the
// bucket from the URL.
func openURL(ctx context.Context, u *url.URL) (blob.Bucket, error) {
	name, opts, err := FromURL(u, os.Getenv)
	if err != nil {
		return nil, openErr(u.Host, err)
	}
	return OpenBucket(ctx, name, opts)
}

// FromURL turns an s3:// URL and the environment (read only through getenv)
// into a bucket name and Options:
//
//	s3://BUCKET?region=R&endpoint=URL&use_path_style=true&escape_keys=true&verbatim_keys=true&profile=NAME&anonymous=true
//
// profile=NAME names the server behind the endpoint (Options.Profile).
// max_attempts=N and retry_budget=N set Options.Retry (blob.RetryPolicy),
// on every provider alike.
//
// Credentials come from the AWS chain of auth/awscred (environment keys,
// web identity, the shared files' profile, the container endpoint, IMDS),
// which also resolves what the URL leaves out: region falls back to
// AWS_REGION, AWS_DEFAULT_REGION, then the profile's region; endpoint to
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then the profile's endpoint_url
// (none of them when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true); with no
// endpoint, AWS S3 over https. With anonymous=true requests are not signed;
// region and endpoint still come from the chain's configuration when it
// has one, else from the variables above.
//
// Errors: an unknown parameter, a bad boolean or a missing region are
// ErrInvalidArgument naming the problem, as is a broken profile setup
// (AWS_PROFILE naming a missing profile, a malformed shared file); no
// credentials anywhere is ErrUnauthenticated, with the chain's report of
// every source it tried.
func FromURL(u *url.URL, getenv func(string) string) (string, Options, error) {
	var opts Options
	if u.Scheme != Scheme {
		return "", opts, blob.Errorf(blob.ErrInvalidArgument, "s3: URL scheme %q is not %q", u.Scheme, Scheme)
	}
	name, err := urlopt.Bucket(u, "bucket")
	if err != nil {
		return "", opts, err
	}
	anonymous := false
	known := append([]string{"region", "endpoint", "use_path_style", "escape_keys", "verbatim_keys", "profile", "anonymous"}, urlopt.RetryParams...)
	err = urlopt.Params(u, known, func(k, v string) error {
		if ok, err := urlopt.Retry(u.Scheme, k, v, &opts.Retry); ok {
			return err
		}
		var err error
		switch k {
		case "region":
			opts.Region = v
		case "endpoint":
			opts.Endpoint = v
		case "use_path_style":
			opts.UsePathStyle, err = urlopt.Bool(u.Scheme, k, v)
		case "escape_keys":
			opts.EscapeKeys, err = urlopt.Bool(u.Scheme, k, v)
		case "verbatim_keys":
			opts.VerbatimKeys, err = urlopt.Bool(u.Scheme, k, v)
		case "profile":
			if profileNamed(v) == nil {
				err = blob.Errorf(blob.ErrInvalidArgument, "s3: URL parameter profile=%q names no known server (known: %s)", v, strings.Join(ProfileNames(), ", "))
			}
			opts.Profile = v
		case "anonymous":
			anonymous, err = urlopt.Bool(u.Scheme, k, v)
		}
		return err
	})
	if err != nil {
		return "", opts, err
	}
	chain, err := awscred.NewChain(&awscred.Options{Getenv: getenv})
	switch {
	case err == nil:
		cfg := chain.Config()
		if opts.Region == "" {
			opts.Region = cfg.Region
		}
		if opts.Endpoint == "" {
			opts.Endpoint = cfg.S3Endpoint
		}
	case anonymous:
		// No credentials needed: region and endpoint as the chain resolves
		// them (environment, profile, [services]), without a source.
		cfg, cerr := awscred.LoadConfig(&awscred.Options{Getenv: getenv})
		if cerr != nil {
			return "", opts, &blob.Error{Kind: blob.ErrInvalidArgument, Err: fmt.Errorf("s3: bucket %q: %w", name, cerr)}
		}
		if opts.Region == "" {
			opts.Region = cfg.Region
		}
		if opts.Endpoint == "" {
			opts.Endpoint = cfg.S3Endpoint
		}
	default:
		var nce *auth.NoCredentialsError
		if errors.As(err, &nce) {
			return "", opts, &blob.Error{Kind: blob.ErrUnauthenticated, Err: fmt.Errorf("s3: bucket %q (add ?anonymous=true for a public bucket): %w", name, err)}
		}
		return "", opts, &blob.Error{Kind: blob.ErrInvalidArgument, Err: fmt.Errorf("s3: bucket %q: %w", name, err)}
	}
	if opts.Region == "" {
		return "", opts, blob.Errorf(blob.ErrInvalidArgument, "s3: no region for bucket %q: add ?region=, set AWS_REGION, or set region in the AWS profile", name)
	}
	if anonymous {
		opts.Anonymous = true
		return name, opts, nil
	}
	opts.Credentials = chain
	return name, opts, nil
}
