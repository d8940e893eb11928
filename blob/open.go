package blob

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// URLOpener opens the bucket a URL names. Providers register one per scheme
// with Register. The opener reads the provider's own environment variables
// (AWS_REGION, AZURE_STORAGE_ACCOUNT, STORAGE_EMULATOR_HOST, ...) for what
// the URL does not say, and returns a Bucket made with NewBucket.
type URLOpener func(ctx context.Context, u *url.URL) (Bucket, error)

var registry struct {
	sync.RWMutex
	openers map[string]URLOpener
}

// Register makes a provider available to OpenBucket and OpenFromEnv under
// scheme. Providers call it from init, one line. Registering a scheme twice,
// an empty scheme or a nil opener panics, as database/sql.Register does.
func Register(scheme string, open URLOpener) {
	if scheme == "" || open == nil {
		panic("blob: Register needs a scheme and an opener")
	}
	scheme = strings.ToLower(scheme)
	registry.Lock()
	defer registry.Unlock()
	if registry.openers == nil {
		registry.openers = map[string]URLOpener{}
	}
	if _, dup := registry.openers[scheme]; dup {
		panic("blob: Register called twice for scheme " + scheme)
	}
	registry.openers[scheme] = open
}

// Schemes returns the registered schemes, sorted.
func Schemes() []string {
	registry.RLock()
	defer registry.RUnlock()
	s := make([]string, 0, len(registry.openers))
	for k := range registry.openers {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// provider describes one provider for OpenFromEnv and for the errors that
// say which import is missing.
type provider struct {
	name    string // the CLOUD_PROVIDER name
	scheme  string
	aliases []string
	pkg     string // the import that registers it
}

var providers = []provider{
	{"aws", "s3", []string{"s3"}, "github.com/anyblob/anyblob/providers/aws"},
	{"azure", "azblob", []string{"azblob"}, "github.com/anyblob/anyblob/providers/azure"},
	{"gcp", "gs", []string{"gcs", "gs"}, "github.com/anyblob/anyblob/providers/gcp"},
	{"file", "file", []string{"local"}, "github.com/anyblob/anyblob/blob/fileblob"},
	{"mem", "mem", nil, "github.com/anyblob/anyblob/blob/memblob"},
}

func providerByScheme(scheme string) (provider, bool) {
	for _, p := range providers {
		if p.scheme == scheme {
			return p, true
		}
	}
	return provider{}, false
}

func providerByName(name string) (provider, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, p := range providers {
		if p.name == name {
			return p, true
		}
		for _, a := range p.aliases {
			if a == name {
				return p, true
			}
		}
	}
	return provider{}, false
}

// OpenBucket opens the bucket rawURL names: "s3://bucket?region=eu-west-1",
// "azblob://container", "gs://bucket", "file:///path/to/dir", "mem://name".
// The scheme's provider must be registered, usually by importing it (or
// github.com/anyblob/anyblob/providers/all); if it is not, the error says
// which import is needed. Errors are ErrInvalidArgument for a URL that cannot
// be used, else whatever the provider's opener returns.
func OpenBucket(ctx context.Context, rawURL string) (Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, openErr("", Errorf(ErrInvalidArgument, "cannot parse bucket URL: %v", err))
	}
	if u.Scheme == "" {
		return nil, openErr("", Errorf(ErrInvalidArgument, "bucket URL %q has no scheme; want one of %s", rawURL, knownSchemes()))
	}
	return openURL(ctx, u)
}

func openURL(ctx context.Context, u *url.URL) (Bucket, error) {
	scheme := strings.ToLower(u.Scheme)
	registry.RLock()
	open := registry.openers[scheme]
	registry.RUnlock()
	if open == nil {
		if p, ok := providerByScheme(scheme); ok {
			return nil, openErr(scheme, Errorf(ErrInvalidArgument,
				"the %s provider is not linked into this program: add import _ %q (or _ \"github.com/anyblob/anyblob/providers/all\")", p.name, p.pkg))
		}
		return nil, openErr(scheme, Errorf(ErrInvalidArgument, "unknown bucket URL scheme %q; want one of %s", u.Scheme, knownSchemes()))
	}
	b, err := open(ctx, u)
	if err != nil {
		return nil, openErr(scheme, err)
	}
	return b, nil
}

func openErr(scheme string, err error) error {
	return wrapError(nil, err, scheme, "", "Open", "")
}

func knownSchemes() string {
	var s []string
	for _, p := range providers {
		s = append(s, p.scheme+"://")
	}
	return strings.Join(s, ", ")
}

// DefaultDir is the directory OpenFromEnv opens when neither CLOUD_PROVIDER
// nor CLOUD_BUCKET is set: anyblob-data under the working directory.
const DefaultDir = "anyblob-data"

// OpenFromEnv opens the bucket the environment names, so the same program
// runs on every provider:
//
//	CLOUD_PROVIDER  aws | azure | gcp | file | mem, or an alias: s3, azblob,
//	                gcs, gs, local. Unset or "" means file.
//	CLOUD_BUCKET    the bucket or container name; for file, the directory
//	                (default DefaultDir, created if missing); for mem, the
//	                name of the process-wide memory bucket (default "default").
//
// Each provider's opener then reads its cloud's own variables (AWS_REGION,
// AWS_ENDPOINT_URL_S3, AZURE_STORAGE_ACCOUNT,
// AZURE_STORAGE_CONNECTION_STRING, STORAGE_EMULATOR_HOST, ...). An unknown
// CLOUD_PROVIDER is ErrInvalidArgument naming it and the known ones; a cloud
// provider without CLOUD_BUCKET is ErrInvalidArgument naming the variable; a
// provider that is not linked in is an error naming the import it needs.
func OpenFromEnv(ctx context.Context) (Bucket, error) {
	return openFromEnv(ctx, os.Getenv)
}

func openFromEnv(ctx context.Context, getenv func(string) string) (Bucket, error) {
	u, err := envURL(getenv)
	if err != nil {
		return nil, err
	}
	return openURL(ctx, u)
}

// envURL turns CLOUD_PROVIDER and CLOUD_BUCKET into the URL OpenFromEnv opens.
func envURL(getenv func(string) string) (*url.URL, error) {
	name := getenv("CLOUD_PROVIDER")
	bucket := getenv("CLOUD_BUCKET")
	if strings.TrimSpace(name) == "" {
		name = "file"
	}
	p, ok := providerByName(name)
	if !ok {
		var known []string
		for _, p := range providers {
			known = append(known, p.name)
			known = append(known, p.aliases...)
		}
		return nil, openErr("", Errorf(ErrInvalidArgument, "unknown CLOUD_PROVIDER %q; known: %s", name, strings.Join(known, ", ")))
	}
	u := &url.URL{Scheme: p.scheme}
	switch p.name {
	case "file":
		dir := bucket
		if dir == "" {
			dir = DefaultDir
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, openErr(p.scheme, Errorf(ErrInvalidArgument, "CLOUD_BUCKET directory %q: %v", dir, err))
		}
		u.Path = filepath.ToSlash(abs)
		u.RawQuery = "create_dir=true"
	case "mem":
		if bucket == "" {
			bucket = "default"
		}
		u.Host = bucket
	default:
		if bucket == "" {
			return nil, openErr(p.scheme, Errorf(ErrInvalidArgument, "CLOUD_PROVIDER=%s needs CLOUD_BUCKET, the bucket name", name))
		}
		u.Host = bucket
	}
	return u, nil
}

// String makes provider lists readable in test failures.
func (p provider) String() string { return fmt.Sprintf("%s (%s://)", p.name, p.scheme) }
