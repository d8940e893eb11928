package gcp

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/option"

	"github.com/anyblob/anyblob/auth/gcpcred"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/pread"
	"github.com/anyblob/anyblob/internal/retry"
)

// Scheme is the URL scheme this driver registers: "gs".
const Scheme = "gs"

// DefaultPartSize is the chunk size of uploads when WriterOptions.PartSize
// is 0.
const DefaultPartSize = 16 << 20

// Options configure a Client. The zero value uses Application Default
// Credentials against Google Cloud Storage. Options are read once, by New:
// nothing here reads the environment (see FromURL).
type Options struct {
	// Endpoint, when set, is the JSON API endpoint, such as an emulator's
	// "http://127.0.0.1:4443/storage/v1/". "" means Google's.
	Endpoint string
	// Anonymous sends no credentials (for emulators and public buckets).
	Anonymous bool
	// Credentials are used when set; nil means the GCP chain of
	// auth/gcpcred (Application Default Credentials), unless Anonymous.
	// The chain's choice is told to the listeners of New's context, and
	// each new token to those of the call that fetched it (or of the next
	// call that listens): blob.EventCredentialsSource and
	// blob.EventCredentialsRefresh, which blob.LogTo logs. Credentials
	// given in ClientOptions replace these and are not watched.
	Credentials *google.Credentials
	// AllowInsecureCredentials lets credentials go to an http:// endpoint.
	// Without it, an http endpoint with credentials is ErrInvalidArgument:
	// bearer tokens travel over https only.
	AllowInsecureCredentials bool
	// Project is the project buckets are created in (Client.CreateBucket);
	// "" is enough for everything else.
	Project string
	// ClientOptions are passed to storage.NewClient after the ones Options
	// makes, so they win (credentials, HTTP client, ...); nil adds none.
	ClientOptions []option.ClientOption
	// SignerEmail is the service account SignerKey belongs to.
	SignerEmail string
	// SignerKey (a PEM private key) and SignerEmail sign URLs locally. nil
	// means SignedURL uses the credentials' own key, or IAM signBlob.
	SignerKey []byte
	// Retry is how requests are retried: the rules every provider shares
	// (blob.RetryPolicy); the zero value means the defaults. It replaces
	// the storage library's own retry settings.
	Retry blob.RetryPolicy
	// ReadConcurrency is the most parts a full read of a large object
	// fetches at once, over as many connections (see NewRangeReader): it
	// starts with 12 and allows more while the rate grows; 0 means
	// DefaultReadConcurrency, 1 reads every object in one stream.
	ReadConcurrency int
	// ReadPartSize is the size of those parts; 0 means
	// DefaultReadPartSize, and it is at least 1 MiB. Objects smaller than
	// two parts are read in one stream. A reader holds at most
	// ReadConcurrency × ReadPartSize bytes.
	ReadPartSize int64
	// ComposeWrites sends a large write as parts in parallel, composed
	// into the object at Close, as gcloud's parallel composite uploads
	// do: over a far link each connection carries a share, where one
	// resumable upload runs at one connection's rate. It applies to
	// unconditional writes larger than one part (WriterOptions.PartSize,
	// DefaultComposePartSize when 0), DefaultWriteConcurrency parts at
	// once (WriterOptions.Concurrency), without a customer-supplied key
	// or an MD5 checksum; any other write is one stream. What it costs:
	// the object is a composite (GCS keeps a CRC32C and a component
	// count, no MD5, so Attributes.MD5 is nil); while the write runs, its
	// parts are objects under ComposePrefix that other clients can list
	// (they are deleted when the write ends, however it ends, but a
	// process that dies mid-write leaves them: a lifecycle rule that
	// deletes that prefix's objects after a day cleans up, as GCS
	// suggests for gcloud's); the parts and composes are operations on
	// the bucket, billed as such, and a bucket with a retention policy or
	// a storage class with a minimum duration charges for the parts.
	// Each part declares its CRC32C and is checked as stored, and the
	// object's CRC32C is checked against what was written, so integrity
	// is as for one stream. false, the default, writes every object as
	// one stream. URL parameter: compose_writes=true.
	ComposeWrites bool
	// ComposePrefix is where composed writes keep their parts while they
	// run, each write under a random name of its own; "" means
	// DefaultComposePrefix. Writes through a blob.Prefixed view still put
	// their parts here, at the bucket's root.
	ComposePrefix string
	// ReadTarget, when above 0, is the throughput in bytes per second a
	// parallel read aims at instead of adapting, as the AWS CRT client's
	// target throughput: as many parts at once as ReadTarget over the rate
	// one connection showed over the read's first MiB, at least 2 and at
	// most ReadConcurrency. 0 adapts (see ReadConcurrency).
	ReadTarget int64
	// WriteTarget, when above 0, is the throughput in bytes per second a
	// composed write (ComposeWrites) of a file or other io.ReaderAt aims at instead of adapting,
	// as the AWS CRT client's target throughput: two parts go first, and
	// the first to finish sets how many go at once, WriteTarget over its
	// own rate (one connection's), at least 2 and at most
	// upload.DefaultMaxSectionConcurrency (16; a write's own
	// WriterOptions.Concurrency when set). Writes of a stream send their
	// buffered parts at their concurrency, their memory bound. 0 adapts.
	WriteTarget int64
}

// Read defaults (see NewRangeReader).
const (
	// DefaultReadPartSize is the size of the parts of a parallel read.
	DefaultReadPartSize = pread.DefaultPartSize
	// DefaultReadConcurrency is how many parts a read fetches at once.
	DefaultReadConcurrency = pread.DefaultConcurrency
)

// Client is a GCS client: it holds the storage client and credentials, so
// every bucket opened with Bucket shares them. It is safe for concurrent
// use. blob.As reaches it from a bucket of this package (target type
// **gcp.Client).
type Client struct {
	sc    *storage.Client
	opts  Options
	retry *retry.Retrier
	// insecure is true for an http:// endpoint, so signed URLs use http.
	insecure bool
	// read sizes parallel reads (Options.ReadConcurrency, ReadPartSize).
	read pread.Options
	// tokens watches the credentials' tokens for refreshes, to tell them
	// as events; nil without credentials.
	tokens *tokenWatch
}

// New returns a Client for opts. It does not contact the service unless
// the credentials need to (the metadata server, say). Errors are
// *blob.Error with Op blob.OpOpen: ErrInvalidArgument for an endpoint that
// is not an http(s) URL, or an http one with credentials (without
// AllowInsecureCredentials); ErrUnauthenticated when no credentials are
// found, with the chain's report, or the storage client refuses them;
// ErrInvalidArgument for a Retry policy that blob.RetryPolicy.Validate
// refuses.
func New(ctx context.Context, opts Options) (*Client, error) {
	rt, err := retry.New(opts.Retry)
	if err != nil {
		return nil, blob.OpenError(Scheme, "", err)
	}
	switch {
	case opts.ReadConcurrency < 0:
		return nil, blob.OpenError(Scheme, "", blob.Errorf(blob.ErrInvalidArgument, "gs: negative ReadConcurrency %d", opts.ReadConcurrency))
	case opts.ReadPartSize != 0 && opts.ReadPartSize < 1<<20:
		return nil, blob.OpenError(Scheme, "", blob.Errorf(blob.ErrInvalidArgument, "gs: ReadPartSize %d is under 1 MiB", opts.ReadPartSize))
	case opts.ReadTarget < 0:
		return nil, blob.OpenError(Scheme, "", blob.Errorf(blob.ErrInvalidArgument, "gs: negative ReadTarget %d", opts.ReadTarget))
	case opts.WriteTarget < 0:
		return nil, blob.OpenError(Scheme, "", blob.Errorf(blob.ErrInvalidArgument, "gs: negative WriteTarget %d", opts.WriteTarget))
	}
	c := &Client{opts: opts, retry: rt, read: pread.Options{PartSize: opts.ReadPartSize, Concurrency: opts.ReadConcurrency, Target: opts.ReadTarget}}
	co, err := c.clientOptions(ctx)
	if err != nil {
		return nil, blob.OpenError(Scheme, "", err)
	}
	sc, err := storage.NewClient(ctx, co...)
	if err != nil {
		return nil, blob.OpenError(Scheme, "", &blob.Error{Kind: blob.ErrUnauthenticated, Err: err})
	}
	c.sc = sc
	return c, nil
}

// clientOptions are the storage client's options for c.opts: the endpoint,
// the credentials (or none), then Options.ClientOptions.
func (c *Client) clientOptions(ctx context.Context) ([]option.ClientOption, error) {
	opts := c.opts
	var co []option.ClientOption
	if opts.Endpoint != "" {
		u, err := url.Parse(opts.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, blob.Errorf(blob.ErrInvalidArgument, "gs: endpoint %q is not an http(s) URL", opts.Endpoint)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/storage/v1/"
		}
		c.insecure = u.Scheme == "http"
		co = append(co, option.WithEndpoint(u.String()))
	}
	switch {
	case opts.Anonymous:
		co = append(co, option.WithoutAuthentication())
	case c.insecure && !opts.AllowInsecureCredentials:
		return nil, blob.Errorf(blob.ErrInvalidArgument, "gs: endpoint %q is http: credentials are only sent over https (set Anonymous, or AllowInsecureCredentials for a test server)", opts.Endpoint)
	default:
		creds, source := opts.Credentials, "Options.Credentials"
		if creds == nil {
			// AWS workload identity federation takes its AWS keys and
			// region from anyblob's AWS chain (profiles, roles, web
			// identity, containers, IMDSv2), not only the variables and
			// metadata URLs the oauth2 library reads.
			found, rep, err := gcpcred.Find(ctx, &gcpcred.Options{Scopes: []string{storage.ScopeFullControl}, AWS: &gcpcred.AWSSupplier{}})
			if err != nil {
				return nil, &blob.Error{Kind: blob.ErrUnauthenticated, Err: err}
			}
			creds, source = found, "the chosen source"
			if a, ok := rep.Used(); ok {
				source = a.Source
			}
		}
		creds, c.tokens = watchTokens(creds, source)
		co = append(co, option.WithCredentials(creds))
	}
	return append(co, opts.ClientOptions...), nil
}

// Storage returns the underlying storage client, never nil. It is closed
// by Close.
func (c *Client) Storage() *storage.Client { return c.sc }

// Close closes the storage client; buckets opened through c fail after it.
// Its error is the storage client's.
func (c *Client) Close() error { return c.sc.Close() }

// Bucket returns the bucket name through c as a blob.Bucket. It does not
// contact the service, so a bucket that does not exist shows as
// ErrNotFound on the first call. A name GCS cannot have (see
// validateBucketName) is a *blob.Error of kind ErrInvalidArgument. Closing
// the bucket does not close c.
func (c *Client) Bucket(name string) (blob.Bucket, error) {
	return c.bucket(name, false)
}

func (c *Client) bucket(name string, owns bool) (blob.Bucket, error) {
	if err := validateBucketName(name); err != nil {
		return nil, blob.OpenError(Scheme, name, err)
	}
	bkt := c.sc.Bucket(name).Retryer(c.retryOptions()...)
	return blob.NewBucket(Scheme, name, &driver{c: c, bkt: bkt, name: name, owns: owns}), nil
}

// retryOptions are the retry settings of every handle: every request
// retried, the shared policy's attempts, and the library's own waits a
// nanosecond (the waits are the shared policy's, made in shouldRetry).
func (c *Client) retryOptions() []storage.RetryOption {
	return []storage.RetryOption{
		storage.WithPolicy(storage.RetryAlways),
		storage.WithMaxAttempts(c.retry.MaxAttempts()),
		storage.WithBackoff(gax.Backoff{Initial: time.Nanosecond, Max: time.Nanosecond, Multiplier: 1}),
	}
}

// shouldRetry is the library's retry decision for one call made with ctx,
// as Options.Retry says (internal/retry, the rules every provider shares):
// an error the library deems transient (5xx, 429, 408, connection faults),
// or a body that arrived changed (checksumMismatch), is retried after the shared policy's wait, within its attempts and
// budget, unless that wait would outlast ctx's deadline; the last error is
// then the answer. Every request is retried, writes and deletes included
// (storage.RetryAlways): a single-request write resent whole stores the
// same object, as if it had come later; a resumable upload resumes where
// the service says it stopped; a delete resent deletes what is there then.
// Each is the same as the operation happening at its last attempt, which
// is when the caller learns its outcome.
func (c *Client) shouldRetry(ctx context.Context) storage.RetryOption {
	opt, _ := c.retrying(ctx)
	return opt
}

// retrying is shouldRetry, with a count of the retries it allowed.
func (c *Client) retrying(ctx context.Context) (storage.RetryOption, *atomic.Int32) {
	c.tokens.check(ctx) // every call of the driver comes here first
	var failures, retried atomic.Int32
	return storage.WithErrorFunc(func(err error) bool {
		if (storage.ShouldRetry(err) || checksumMismatch(err)) && c.retry.Again(ctx, int(failures.Add(1)), err) == nil {
			retried.Add(1)
			return true
		}
		return false
	}), &retried
}

// OpenBucket is New followed by Client.Bucket: it returns the bucket name
// with a Client of its own, closed when the bucket is. Its errors are
// New's and Bucket's.
func OpenBucket(ctx context.Context, name string, opts Options) (blob.Bucket, error) {
	// The name first: a bad one fails before any credential is looked up.
	if err := validateBucketName(name); err != nil {
		return nil, blob.OpenError(Scheme, name, err)
	}
	c, err := New(ctx, opts)
	if err != nil {
		return nil, blob.OpenError(Scheme, name, err)
	}
	return c.bucket(name, true)
}

// validateBucketName checks GCS's bucket naming rules: lower-case letters,
// digits, '-', '_' and '.'; starting and ending with a letter or digit;
// 3 to 63 characters, or up to 222 with dots, each dot-separated part 1 to
// 63 characters; not an IP address in dotted-decimal form; not starting
// with "goog" and not containing "google". (GCS also refuses close
// misspellings of "google", which are not listed anywhere: the service
// checks those.) A bad name is ErrInvalidArgument.
func validateBucketName(name string) error {
	bad := func(why string) error {
		return blob.Errorf(blob.ErrInvalidArgument, "gs: bucket name %q %s", name, why)
	}
	switch {
	case len(name) < 3 || len(name) > 222:
		return bad("must be 3 to 63 characters (222 with dots)")
	case len(name) > 63 && !strings.Contains(name, "."):
		return bad("must be 3 to 63 characters (222 with dots)")
	case !isAlnum(name[0]) || !isAlnum(name[len(name)-1]):
		return bad("must start and end with a letter or digit")
	case strings.HasPrefix(name, "goog") || strings.Contains(name, "google"):
		return bad(`must not start with "goog" nor contain "google"`)
	case net.ParseIP(name) != nil:
		return bad("must not be an IP address")
	}
	for i := 0; i < len(name); i++ {
		if ch := name[i]; !isAlnum(ch) && ch != '-' && ch != '_' && ch != '.' {
			return bad("may hold only lower-case letters, digits, '-', '_' and '.'")
		}
	}
	for part := range strings.SplitSeq(name, ".") {
		if len(part) == 0 || len(part) > 63 {
			return bad("must have dot-separated parts of 1 to 63 characters")
		}
	}
	return nil
}

func isAlnum(ch byte) bool { return 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' }
