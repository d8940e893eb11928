package blob

import (
	"context"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
)

// URLOpener opens the bucket a URL names. The opener reads the provider's
// own environment variables (AWS_REGION, AZURE_STORAGE_ACCOUNT,
// STORAGE_EMULATOR_HOST, ...) for what the URL does not say, and returns a
// Bucket made with NewBucket.
type URLOpener func(ctx context.Context, u *url.URL) (Bucket, error)

// Provider is what a provider registers: its names and how to open it. blob
// names no provider itself; each registers from its own init.
type Provider struct {
	// Name is the provider's CLOUD_PROVIDER name ("aws"), lower case.
	Name string
	// Scheme is its URL scheme ("s3"), lower case.
	Scheme string
	// Aliases are other CLOUD_PROVIDER names that select it ("s3").
	Aliases []string
	// Open opens a URL of Scheme.
	Open URLOpener
	// EnvURL turns CLOUD_BUCKET into the URL OpenFromEnv opens. nil means
	// Scheme://CLOUD_BUCKET, with CLOUD_BUCKET required.
	EnvURL func(bucket string) (*url.URL, error)
	// CreateBucket creates the bucket (or container, or directory) a URL of
	// Scheme names, read the way Open reads it; RemoveBucket removes it,
	// empty. Their errors are *Error (or sentinels the shared layer then
	// wraps). nil means the provider cannot, and CreateBucket and
	// RemoveBucket say ErrNotImplemented.
	CreateBucket, RemoveBucket func(ctx context.Context, u *url.URL) error
}

// Operations of CreateBucket and RemoveBucket, as *Error's Op.
const (
	OpCreateBucket = "create bucket"
	OpRemoveBucket = "remove bucket"
)

// CreateBucket creates the bucket rawURL names (the same URLs OpenBucket
// takes: s3://name?region=..., azblob://container, gs://name?project=...,
// file:///dir), with the provider's credentials and defaults. A bucket that
// exists already is ErrPreconditionFailed; a name the service refuses is
// ErrInvalidArgument; a provider that cannot create buckets (mem, whose
// buckets exist once opened) is ErrNotImplemented; an unknown scheme is
// ErrInvalidArgument naming the registered ones.
func CreateBucket(ctx context.Context, rawURL string) error {
	return adminURL(ctx, rawURL, OpCreateBucket, func(p Provider) func(context.Context, *url.URL) error { return p.CreateBucket })
}

// RemoveBucket removes the empty bucket rawURL names. A bucket that still
// holds objects is ErrPreconditionFailed (empty it first with
// DeletePrefix); an absent one is ErrNotFound; the other errors are
// CreateBucket's.
func RemoveBucket(ctx context.Context, rawURL string) error {
	return adminURL(ctx, rawURL, OpRemoveBucket, func(p Provider) func(context.Context, *url.URL) error { return p.RemoveBucket })
}

func adminURL(ctx context.Context, rawURL, op string, pick func(Provider) func(context.Context, *url.URL) error) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return wrapError(ctx, Errorf(ErrInvalidArgument, "bucket URL %q is not scheme://name; registered: %s", rawURL, knownSchemes()), nil, "", "", op, "")
	}
	scheme := strings.ToLower(u.Scheme)
	p, ok := providerBy(func(p Provider) bool { return p.Scheme == scheme })
	if !ok {
		return wrapError(ctx, Errorf(ErrInvalidArgument, "no provider for the URL scheme %q is linked into this program: %s; registered: %s", u.Scheme, linkHint, knownSchemes()), nil, scheme, "", op, "")
	}
	f := pick(p)
	if f == nil {
		return wrapError(ctx, Errorf(ErrNotImplemented, "%s: the provider cannot %s", scheme, op), nil, scheme, u.Host, op, "")
	}
	if err := f(ctx, u); err != nil {
		return wrapError(ctx, err, nil, scheme, u.Host, op, "")
	}
	return nil
}

var registry struct {
	sync.RWMutex
	providers []Provider
}

// Register makes a provider available to OpenBucket and OpenFromEnv.
// Providers call it from init, one line. A provider without Name, Scheme or
// Open, or whose scheme or a name is already registered, panics, as
// database/sql.Register does.
func Register(p Provider) {
	if p.Name == "" || p.Scheme == "" || p.Open == nil {
		panic("blob: Register needs a Name, a Scheme and an Open func")
	}
	p.Name, p.Scheme = strings.ToLower(p.Name), strings.ToLower(p.Scheme)
	registry.Lock()
	defer registry.Unlock()
	for _, q := range registry.providers {
		if q.Scheme == p.Scheme {
			panic("blob: Register called twice for scheme " + p.Scheme)
		}
		for _, n := range append([]string{p.Name}, p.Aliases...) {
			if q.matches(n) {
				panic("blob: Register called twice for the name " + n)
			}
		}
	}
	registry.providers = append(registry.providers, p)
}

func (p Provider) matches(name string) bool {
	return p.Name == name || slices.Contains(p.Aliases, name)
}

// Schemes returns the registered schemes, sorted.
func Schemes() []string {
	registry.RLock()
	defer registry.RUnlock()
	s := make([]string, 0, len(registry.providers))
	for _, p := range registry.providers {
		s = append(s, p.Scheme)
	}
	sort.Strings(s)
	return s
}

func providerBy(match func(Provider) bool) (Provider, bool) {
	registry.RLock()
	defer registry.RUnlock()
	for _, p := range registry.providers {
		if match(p) {
			return p, true
		}
	}
	return Provider{}, false
}

// linkHint is the advice for a provider that is not linked in.
const linkHint = "import the package that provides it (github.com/anyblob/anyblob/providers/all links every provider)"

// OpenBucket opens the bucket rawURL names: "s3://bucket?region=eu-west-1",
// "azblob://container", "gs://bucket", "file:///path/to/dir", "mem://name".
// The scheme's provider must be registered, usually by importing it (or
// github.com/anyblob/anyblob/providers/all); if it is not, the error says so
// and lists the schemes that are. Errors are ErrInvalidArgument for a URL
// that cannot be used, else whatever the provider's opener returns.
func OpenBucket(ctx context.Context, rawURL string) (Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, openErr("", Errorf(ErrInvalidArgument, "cannot parse bucket URL: %v", err))
	}
	if u.Scheme == "" {
		return nil, openErr("", Errorf(ErrInvalidArgument, "bucket URL %q has no scheme; registered: %s", rawURL, knownSchemes()))
	}
	return openURL(ctx, u)
}

func openURL(ctx context.Context, u *url.URL) (Bucket, error) {
	scheme := strings.ToLower(u.Scheme)
	p, ok := providerBy(func(p Provider) bool { return p.Scheme == scheme })
	if !ok {
		return nil, openErr(scheme, Errorf(ErrInvalidArgument, "no provider for the URL scheme %q is linked into this program: %s; registered: %s", u.Scheme, linkHint, knownSchemes()))
	}
	b, err := p.Open(ctx, u)
	if err != nil {
		return nil, openErr(scheme, err)
	}
	return b, nil
}

func openErr(scheme string, err error) error {
	return wrapError(nil, err, nil, scheme, "", OpOpen, "")
}

func knownSchemes() string {
	s := Schemes()
	if len(s) == 0 {
		return "none"
	}
	for i := range s {
		s[i] += "://"
	}
	return strings.Join(s, ", ")
}

// DefaultProvider is the CLOUD_PROVIDER OpenFromEnv uses when the
// variable is unset: the local directory, so a program runs with no cloud
// account.
const DefaultProvider = "file"

// DefaultDir is the directory OpenFromEnv opens when neither CLOUD_PROVIDER
// nor CLOUD_BUCKET is set: anyblob-data under the working directory.
const DefaultDir = "anyblob-data"

// OpenFromEnv opens the bucket the environment names, so the same program
// runs on every provider:
//
//	CLOUD_PROVIDER  a registered provider's name or alias: aws (s3), azure
//	                (azblob), gcp (gcs, gs), file (local), mem. Unset or ""
//	                means DefaultProvider.
//	CLOUD_BUCKET    the bucket or container name; for file, the directory
//	                (default DefaultDir, created if missing); for mem, the
//	                name of the process-wide memory bucket (default "default").
//
// Each provider's opener then reads its cloud's own variables (AWS_REGION,
// AWS_ENDPOINT_URL_S3, AZURE_STORAGE_ACCOUNT,
// AZURE_STORAGE_CONNECTION_STRING, STORAGE_EMULATOR_HOST, ...). A
// CLOUD_PROVIDER no linked provider answers to is ErrInvalidArgument naming
// it, the registered names and how to link the rest; a cloud provider
// without CLOUD_BUCKET is ErrInvalidArgument naming the variable.
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
	name := strings.ToLower(strings.TrimSpace(getenv("CLOUD_PROVIDER")))
	bucket := getenv("CLOUD_BUCKET")
	if name == "" {
		name = DefaultProvider
	}
	p, ok := providerBy(func(p Provider) bool { return p.matches(name) })
	if !ok {
		return nil, openErr("", Errorf(ErrInvalidArgument, "no provider named CLOUD_PROVIDER=%q is linked into this program: %s; registered: %s", name, linkHint, knownNames()))
	}
	if p.EnvURL != nil {
		u, err := p.EnvURL(bucket)
		if err != nil {
			return nil, openErr(p.Scheme, err)
		}
		return u, nil
	}
	if bucket == "" {
		return nil, openErr(p.Scheme, Errorf(ErrInvalidArgument, "CLOUD_PROVIDER=%s needs CLOUD_BUCKET, the bucket name", name))
	}
	return &url.URL{Scheme: p.Scheme, Host: bucket}, nil
}

// knownNames lists the registered CLOUD_PROVIDER names with their aliases.
func knownNames() string {
	registry.RLock()
	defer registry.RUnlock()
	var names []string
	for _, p := range registry.providers {
		n := p.Name
		if len(p.Aliases) > 0 {
			n += " (" + strings.Join(p.Aliases, ", ") + ")"
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
