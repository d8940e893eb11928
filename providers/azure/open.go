package azure

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/anyblob/anyblob/auth/azurecred"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/urlopt"
)

func init() {
	blob.Register(blob.Provider{Name: "azure", Scheme: Scheme, Aliases: []string{"azblob"}, Open: openURL})
}

func openURL(ctx context.Context, u *url.URL) (blob.Bucket, error) {
	name, opts, err := FromURL(u, os.Getenv)
	if err != nil {
		return nil, err
	}
	return OpenBucket(ctx, name, opts)
}

// FromURL turns an azblob:// URL and the environment (read only through
// getenv, and only here) into a container name and Options:
//
//	azblob://CONTAINER?account=A&endpoint=URL
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
	err = urlopt.Params(u, []string{"account", "endpoint"}, func(k, v string) error {
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

// connString is the part of a storage connection string the driver uses.
type connString struct {
	account, key, sas, serviceURL string
}

// parseConnectionString reads "Key=Value;..." pairs. Errors never quote the
// string, which holds a secret.
func parseConnectionString(s string) (connString, error) {
	kv := map[string]string{}
	for _, part := range strings.Split(strings.TrimSpace(s), ";") {
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return connString{}, blob.Errorf(blob.ErrInvalidArgument, "azblob: connection string has a part with no '='")
		}
		kv[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	c := connString{account: kv["accountname"], key: kv["accountkey"], sas: kv["sharedaccesssignature"], serviceURL: kv["blobendpoint"]}
	if c.serviceURL == "" {
		if c.account == "" {
			return c, blob.Errorf(blob.ErrInvalidArgument, "azblob: connection string has neither BlobEndpoint nor AccountName")
		}
		proto, suffix := kv["defaultendpointsprotocol"], kv["endpointsuffix"]
		if proto == "" {
			proto = "https"
		}
		if suffix == "" {
			suffix = "core.windows.net"
		}
		c.serviceURL = fmt.Sprintf("%s://%s.blob.%s", proto, c.account, suffix)
	}
	if c.key == "" && c.sas == "" {
		return c, blob.Errorf(blob.ErrInvalidArgument, "azblob: connection string has neither AccountKey nor SharedAccessSignature")
	}
	if c.key != "" && c.account == "" {
		return c, blob.Errorf(blob.ErrInvalidArgument, "azblob: connection string has an AccountKey but no AccountName")
	}
	return c, nil
}

// OpenBucket returns the container name with opts. Errors:
// ErrInvalidArgument for missing or contradictory options (never quoting a
// secret), ErrUnauthenticated when no credential applies.
func OpenBucket(_ context.Context, name string, opts Options) (blob.Bucket, error) {
	d, err := newDriver(name, opts)
	if err != nil {
		return nil, err
	}
	return blob.NewBucket(Scheme, name, d), nil
}

func newDriver(name string, opts Options) (*driver, error) {
	so := opts.ClientOptions
	if opts.ConnectionString != "" {
		cs, err := parseConnectionString(opts.ConnectionString)
		if err != nil {
			return nil, err
		}
		opts.ServiceURL, opts.Account = cs.serviceURL, cs.account
		opts.SharedKey, opts.SASToken = cs.key, cs.sas
	}
	if opts.ServiceURL == "" {
		if opts.Account == "" {
			return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: no account: set ?account=, AZURE_STORAGE_ACCOUNT or a connection string")
		}
		opts.ServiceURL = "https://" + opts.Account + ".blob.core.windows.net"
	}
	su, err := url.Parse(opts.ServiceURL)
	if err != nil || (su.Scheme != "http" && su.Scheme != "https") || su.Host == "" {
		return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: endpoint %q is not an http(s) URL", opts.ServiceURL)
	}
	serviceURL := strings.TrimSuffix(opts.ServiceURL, "/") + "/"
	d := &driver{name: name}
	switch {
	case opts.SharedKey != "":
		if opts.Account == "" {
			return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: a shared key needs the account name")
		}
		cred, err := service.NewSharedKeyCredential(opts.Account, opts.SharedKey)
		if err != nil {
			return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: the shared key is not valid base64")
		}
		d.sharedKey = cred
		d.sc, err = service.NewClientWithSharedKeyCredential(serviceURL, cred, so)
		if err != nil {
			return nil, err
		}
	case opts.SASToken != "":
		sasURL := serviceURL + "?" + strings.TrimPrefix(opts.SASToken, "?")
		sc, err := service.NewClientWithNoCredential(sasURL, so)
		if err != nil {
			return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: bad SAS token")
		}
		d.sc = sc
	default:
		cred := opts.Credential
		if cred == nil {
			chain, err := azurecred.NewChain(&azurecred.Options{})
			if err != nil {
				return nil, &blob.Error{Kind: blob.ErrUnauthenticated, Op: "Open", Provider: Scheme, Bucket: name, Err: err}
			}
			cred = chain
		}
		if su.Scheme != "https" {
			return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: endpoint %q is http: tokens are only sent over https", opts.ServiceURL)
		}
		d.sc, err = service.NewClient(serviceURL, cred, so)
		if err != nil {
			return nil, err
		}
		d.userDelegation = true
	}
	d.cc = d.sc.NewContainerClient(name)
	return d, nil
}
