package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/urlopt"
)

func init() {
	blob.Register(blob.Provider{Name: "gcp", Scheme: Scheme, Aliases: []string{"gcs", "gs"}, Open: openURL,
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
	if err := validateBucketName(name); err != nil {
		return err
	}
	c, err := New(ctx, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	err = call(c, ctx, name)
	return blob.DetailError(err, errorDetail(err))
}

// openURL is the gs:// opener: it reads the environment, then opens the
// bucket as OpenBucket does.
func openURL(ctx context.Context, u *url.URL) (blob.Bucket, error) {
	name, opts, err := FromURL(u, os.Getenv)
	if err != nil {
		return nil, blob.OpenError(Scheme, u.Host, err)
	}
	return OpenBucket(ctx, name, opts)
}

// FromURL turns a gs:// URL and the environment (read only through getenv,
// and only here) into a bucket name and Options:
//
//	gs://BUCKET?project=P&endpoint=URL&anonymous=true&signer_key_file=PATH&compose_writes=true
//
// compose_writes=true sets Options.ComposeWrites (large writes as parts
// in parallel, composed at Close).
// signer_key_file names a service account's JSON key file whose
// client_email and private_key sign URLs locally (Options.SignerEmail and
// SignerKey), for SignedURL with an emulator or with credentials that
// cannot sign; a file that cannot be read or holds no such key is
// ErrInvalidArgument.
// max_attempts=N and retry_budget=N set Options.Retry (blob.RetryPolicy),
// on every provider alike.
//
// With no endpoint parameter, STORAGE_EMULATOR_HOST ("host:port" or a URL)
// selects an emulator, reached without credentials; project falls back to
// GOOGLE_CLOUD_PROJECT. An unknown parameter or a bad value is
// ErrInvalidArgument naming it.
func FromURL(u *url.URL, getenv func(string) string) (string, Options, error) {
	var opts Options
	name, err := urlopt.Bucket(u, "bucket")
	if err != nil {
		return "", opts, err
	}
	err = urlopt.Params(u, append([]string{"project", "endpoint", "anonymous", "signer_key_file", "compose_writes"}, urlopt.RetryParams...), func(k, v string) error {
		if ok, err := urlopt.Retry(u.Scheme, k, v, &opts.Retry); ok {
			return err
		}
		switch k {
		case "project":
			opts.Project = v
		case "endpoint":
			opts.Endpoint = v
		case "anonymous":
			b, err := urlopt.Bool(u.Scheme, k, v)
			opts.Anonymous = b
			return err
		case "compose_writes":
			b, err := urlopt.Bool(u.Scheme, k, v)
			opts.ComposeWrites = b
			return err
		case "signer_key_file":
			email, key, err := signerKeyFile(v)
			if err != nil {
				return blob.Errorf(blob.ErrInvalidArgument, "gs: URL parameter signer_key_file=%q: %v", v, err)
			}
			opts.SignerEmail, opts.SignerKey = email, key
		}
		return nil
	})
	if err != nil {
		return "", opts, err
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
	return name, opts, nil
}

func hasScheme(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// signerKeyFile reads a service account JSON key file's client_email and
// private_key (PEM).
func signerKeyFile(path string) (email string, key []byte, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	var f struct {
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return "", nil, fmt.Errorf("not a JSON key file: %v", err)
	}
	if f.ClientEmail == "" || f.PrivateKey == "" {
		return "", nil, errors.New("the file has no client_email and private_key (a service account key file has both)")
	}
	return f.ClientEmail, []byte(f.PrivateKey), nil
}
