package azure

import (
	"context"
	"net/url"
	"os"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/urlopt"
)

func init() {
	blob.Register(blob.Provider{Name: "azure", Scheme: Scheme, Aliases: []string{"azblob"}, Open: openURL,
		CreateBucket: func(ctx context.Context, u *url.URL) error {
			return adminURL(ctx, u, (*Client).CreateContainer)
		},
		RemoveBucket: func(ctx context.Context, u *url.URL) error {
			return adminURL(ctx, u, (*Client).removeEmpty)
		},
	})
}

// adminURL runs a container call of Client for the container u names,
// with the client u and the environment describe (as the opener does).
func adminURL(ctx context.Context, u *url.URL, call func(*Client, context.Context, string) error) error {
	name, opts, err := FromURL(u, os.Getenv)
	if err != nil {
		return err
	}
	if err := validateContainerName(name); err != nil {
		return err
	}
	c, err := New(ctx, opts)
	if err != nil {
		return err
	}
	err = call(c, ctx, name)
	return blob.DetailError(err, errorDetail(err))
}

// removeEmpty deletes container name if it holds no blob. The service
// deletes a container with its blobs; blob.RemoveBucket promises to remove
// only an empty bucket, so a container that holds blobs is refused with
// ErrPreconditionFailed (a blob written between the look and the delete
// goes with the container).
func (c *Client) removeEmpty(ctx context.Context, name string) error {
	b, err := c.Bucket(name)
	if err != nil {
		return err
	}
	page, err := b.List(ctx, &blob.ListOptions{PageSize: 1})
	if err != nil {
		return err
	}
	if len(page.Objects) > 0 {
		return blob.Errorf(blob.ErrPreconditionFailed, "azblob: container %s holds blobs; delete them first", name)
	}
	return c.DeleteContainer(ctx, name)
}

// openURL is the azblob:// opener: it reads the environment, then opens
// the container as OpenBucket does.
func openURL(ctx context.Context, u *url.URL) (blob.Bucket, error) {
	name, opts, err := FromURL(u, os.Getenv)
	if err != nil {
		return nil, blob.OpenError(Scheme, u.Host, err)
	}
	return OpenBucket(ctx, name, opts)
}

// FromURL turns an azblob:// URL and the environment (read only through
// getenv, and only here) into a container name and Options:
//
//	azblob://CONTAINER?account=A&endpoint=URL
//
// max_attempts=N and retry_budget=N set Options.Retry (blob.RetryPolicy),
// on every provider alike.
//
// account falls back to AZURE_STORAGE_ACCOUNT; endpoint (the blob service
// URL, for Azurite "http://127.0.0.1:10000/devstoreaccount1") to
// https://ACCOUNT.blob.core.windows.net. AZURE_STORAGE_CONNECTION_STRING,
// AZURE_STORAGE_KEY and AZURE_STORAGE_SAS_TOKEN give the credentials, in
// that order; without them the Azure chain does. An unknown parameter is
// ErrInvalidArgument naming it.
func FromURL(u *url.URL, getenv func(string) string) (string, Options, error) {
	var opts Options
	name, err := urlopt.Bucket(u, "container")
	if err != nil {
		return "", opts, err
	}
	err = urlopt.Params(u, append([]string{"account", "endpoint"}, urlopt.RetryParams...), func(k, v string) error {
		if ok, err := urlopt.Retry(u.Scheme, k, v, &opts.Retry); ok {
			return err
		}
		if k == "account" {
			opts.Account = v
		} else {
			opts.ServiceURL = v
		}
		return nil
	})
	if err != nil {
		return "", opts, err
	}
	if opts.Account == "" {
		opts.Account = getenv("AZURE_STORAGE_ACCOUNT")
	}
	opts.ConnectionString = getenv("AZURE_STORAGE_CONNECTION_STRING")
	opts.SharedKey = getenv("AZURE_STORAGE_KEY")
	opts.SASToken = getenv("AZURE_STORAGE_SAS_TOKEN")
	return name, opts, nil
}
