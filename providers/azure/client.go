package azure

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/anyblob/anyblob/auth/azurecred"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/pread"
	"github.com/anyblob/anyblob/internal/retry"
)

// Scheme is the URL scheme this provider registers: "azblob".
const Scheme = "azblob"

// Defaults for uploads.
const (
	// DefaultPartSize is the block size when WriterOptions.PartSize is 0.
	DefaultPartSize = 8 << 20
	// DefaultConcurrency is the number of blocks staged at once when
	// WriterOptions.Concurrency is 0.
	DefaultConcurrency = 8
	// MaxBlocks is the most blocks a block blob can have.
	MaxBlocks = 50_000
	// MaxBlockSize is the largest block the service takes.
	MaxBlockSize = 4000 << 20
)

// Read defaults (see NewRangeReader): a full read of a blob of two parts
// or more may fetch them as ranges over this many connections at once.
const (
	// DefaultReadPartSize is the size of the parts of a parallel read: the
	// 4 MiB the service sends a range MD5 for, so every part is verified
	// on its own as well.
	DefaultReadPartSize = pread.DefaultPartSize
	// DefaultReadConcurrency is how many parts a read fetches at once.
	DefaultReadConcurrency = pread.DefaultConcurrency
)

// Options configure a Client. Exactly one way to authenticate is used, in
// this order: ConnectionString, SharedKey (with Account), SASToken,
// Credential; with none of them, the Azure chain of auth/azurecred. The
// zero value means that chain against https://ACCOUNT.blob.core.windows.net,
// and so needs at least Account. Options are read once, by New: nothing
// here reads the environment (see FromURL).
type Options struct {
	// ServiceURL is the blob endpoint, "https://ACCOUNT.blob.core.windows.net"
	// by default (from Account); for Azurite,
	// "http://127.0.0.1:10000/devstoreaccount1".
	ServiceURL string
	// Account is the storage account name.
	Account string
	// ConnectionString is a storage connection string; it names the
	// endpoint and the key (or SAS) itself, and overrides ServiceURL,
	// Account, SharedKey and SASToken.
	ConnectionString string
	// SharedKey is the account key, base64.
	SharedKey string
	// SASToken is a SAS query string ("sv=...&sig=..."), with or without '?'.
	SASToken string
	// Credential is a token credential (managed identity, workload
	// identity, service principal, CLI); nil means the Azure chain. Tokens
	// are only sent over https.
	Credential azcore.TokenCredential
	// Retry is how requests are retried: the rules every provider shares
	// (blob.RetryPolicy); the zero value means the defaults. It replaces
	// the SDK's retry policy, so ClientOptions.Retry is ignored.
	Retry blob.RetryPolicy
	// ClientOptions are passed to the azblob client (transport, logging,
	// extra pipeline policies); nil means the SDK's defaults, except for
	// the transport: without one, clients share one HTTP/1.1 transport
	// that keeps up to 64 idle connections per host (the SDK's keeps 10),
	// so that the parts of parallel reads and writes each have their
	// connection and none waits on a new handshake. Its Retry field is
	// ignored: Retry above governs.
	ClientOptions *service.ClientOptions
	// ReadConcurrency is the most parts a full read of a large blob
	// fetches at once, over as many connections (see NewRangeReader): it
	// starts with 12 and allows more while the rate grows; 0 means
	// DefaultReadConcurrency, 1 reads every blob in one stream.
	ReadConcurrency int
	// ReadPartSize is the size of those parts; 0 means
	// DefaultReadPartSize, and it is at least 1 MiB. Blobs smaller than
	// two parts are read in one stream. A reader holds at most
	// ReadConcurrency × ReadPartSize bytes.
	ReadPartSize int64
	// ReadTarget, when above 0, is the throughput in bytes per second a
	// parallel read aims at instead of adapting, as the AWS CRT client's
	// target throughput: as many parts at once as ReadTarget over the rate
	// one connection showed over the read's first MiB, at least 2 and at
	// most ReadConcurrency. 0 adapts (see ReadConcurrency).
	ReadTarget int64
	// WriteTarget, when above 0, is the throughput in bytes per second a
	// write of a file or other io.ReaderAt aims at instead of adapting,
	// as the AWS CRT client's target throughput: two parts go first, and
	// the first to finish sets how many go at once, WriteTarget over its
	// own rate (one connection's), at least 2 and at most
	// upload.DefaultMaxSectionConcurrency (16; a write's own
	// WriterOptions.Concurrency when set). Writes of a stream send their
	// buffered parts at their concurrency, their memory bound. 0 adapts.
	WriteTarget int64
}

// Client is an Azure Blob Storage account client: it holds the service
// client and the credentials, so every container opened with Bucket
// shares them. It is safe for concurrent use. blob.As reaches it from a
// bucket of this package (target type **azure.Client).
type Client struct {
	sc    *service.Client
	retry *retry.Retrier
	// sharedKey signs SAS URLs; nil without a shared key.
	sharedKey *service.SharedKeyCredential
	// delegator fetches user delegation keys to sign SAS URLs; nil
	// without a token credential.
	delegator *delegator
	// userDelegation is true when signing needs a user delegation key (a
	// token credential).
	userDelegation bool
	// read sizes parallel reads (Options.ReadConcurrency, ReadPartSize).
	read pread.Options
	// writeTarget is Options.WriteTarget.
	writeTarget int64
	// blockMD5 is set once the service has refused a block's CRC64
	// (Azurite in strict mode): later blocks carry their MD5 instead.
	blockMD5 atomic.Bool
}

// New returns a Client for opts. It does not contact the service. Errors
// are *blob.Error with Op blob.OpOpen: ErrInvalidArgument for missing or
// contradictory options (a bad connection string, no account, a shared key
// that is not base64, an endpoint that is not http(s), a token credential
// over http), never quoting a secret; ErrUnauthenticated when no
// credential applies and the Azure chain finds none. ctx is not kept.
func New(_ context.Context, opts Options) (*Client, error) {
	c, err := newClient(opts)
	if err != nil {
		return nil, blob.OpenError(Scheme, "", err)
	}
	return c, nil
}

func newClient(opts Options) (*Client, error) {
	rt, err := retry.New(opts.Retry)
	if err != nil {
		return nil, err
	}
	switch {
	case opts.ReadConcurrency < 0:
		return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: negative ReadConcurrency %d", opts.ReadConcurrency)
	case opts.ReadPartSize != 0 && opts.ReadPartSize < 1<<20:
		return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: ReadPartSize %d is under 1 MiB", opts.ReadPartSize)
	case opts.ReadTarget < 0:
		return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: negative ReadTarget %d", opts.ReadTarget)
	case opts.WriteTarget < 0:
		return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: negative WriteTarget %d", opts.WriteTarget)
	}
	opts.ClientOptions = clientOptions(opts, rt)
	c, err := newServiceClient(opts)
	if err != nil {
		return nil, err
	}
	c.retry = rt
	c.read = pread.Options{PartSize: opts.ReadPartSize, Concurrency: opts.ReadConcurrency, Target: opts.ReadTarget}
	c.writeTarget = opts.WriteTarget
	return c, nil
}

func newServiceClient(opts Options) (*Client, error) {
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
	switch {
	case opts.SharedKey != "":
		return sharedKeyClient(serviceURL, opts)
	case opts.SASToken != "":
		sasURL := serviceURL + "?" + strings.TrimPrefix(opts.SASToken, "?")
		sc, err := service.NewClientWithNoCredential(sasURL, opts.ClientOptions)
		if err != nil {
			return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: bad SAS token")
		}
		return &Client{sc: sc}, nil
	default:
		if su.Scheme != "https" {
			return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: endpoint %q is http: tokens are only sent over https", opts.ServiceURL)
		}
		return tokenClient(serviceURL, opts)
	}
}

// sharedKeyClient signs with opts.SharedKey, for requests and SAS URLs.
func sharedKeyClient(serviceURL string, opts Options) (*Client, error) {
	if opts.Account == "" {
		return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: a shared key needs the account name")
	}
	cred, err := service.NewSharedKeyCredential(opts.Account, opts.SharedKey)
	if err != nil {
		return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: the shared key is not valid base64")
	}
	sc, err := service.NewClientWithSharedKeyCredential(serviceURL, cred, opts.ClientOptions)
	if err != nil {
		return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: %w", err)
	}
	return &Client{sc: sc, sharedKey: cred}, nil
}

// tokenClient sends opts.Credential's tokens, or the Azure chain's.
func tokenClient(serviceURL string, opts Options) (*Client, error) {
	cred := opts.Credential
	if cred == nil {
		chain, err := azurecred.NewChain(&azurecred.Options{})
		if err != nil {
			// A setting the chain cannot follow (AZURE_TOKEN_CREDENTIALS).
			return nil, &blob.Error{Kind: blob.ErrInvalidArgument, Err: err}
		}
		cred = chain
	}
	sc, err := service.NewClient(serviceURL, cred, opts.ClientOptions)
	if err != nil {
		return nil, blob.Errorf(blob.ErrInvalidArgument, "azblob: %w", err)
	}
	account := opts.Account
	if account == "" {
		account = accountOf(serviceURL)
	}
	var co *azcore.ClientOptions
	if opts.ClientOptions != nil {
		co = &opts.ClientOptions.ClientOptions
	}
	return &Client{sc: sc, userDelegation: true, delegator: newDelegator(serviceURL, account, cred, co)}, nil
}

// Bucket returns the container name through c as a blob.Bucket. It does
// not contact the service, so a container that does not exist shows as
// ErrNotFound on the first call. A name Azure cannot have (3 to 63
// characters of lower-case letters, digits and '-', starting and ending
// with a letter or digit, no "--"; or one of the special containers
// "$root", "$web", "$logs") is a *blob.Error of kind ErrInvalidArgument.
// Closing the bucket does not close c.
func (c *Client) Bucket(name string) (blob.Bucket, error) {
	return c.bucket(name, false)
}

func (c *Client) bucket(name string, owns bool) (blob.Bucket, error) {
	if err := validateContainerName(name); err != nil {
		return nil, blob.OpenError(Scheme, name, err)
	}
	d := &driver{c: c, cc: c.sc.NewContainerClient(name), name: name, owns: owns}
	return blob.NewBucket(Scheme, name, d), nil
}

// OpenBucket is New followed by Client.Bucket: it returns the container
// name with a Client of its own, closed when the bucket is. Its errors are
// New's and Bucket's; it does not contact the service.
func OpenBucket(ctx context.Context, name string, opts Options) (blob.Bucket, error) {
	// The name first: a bad one fails before any credential is looked up.
	if err := validateContainerName(name); err != nil {
		return nil, blob.OpenError(Scheme, name, err)
	}
	c, err := New(ctx, opts)
	if err != nil {
		return nil, blob.OpenError(Scheme, name, err)
	}
	return c.bucket(name, true)
}

// Close releases c. The azblob SDK holds nothing that needs releasing (its
// connections belong to the transport in Options.ClientOptions, or to the
// SDK's shared one), so Close returns nil; it is there so every provider's
// Client has the same shape.
func (c *Client) Close() error { return nil }

// validateContainerName checks Azure's container naming rules: 3 to 63
// characters of lower-case letters, digits and '-', starting and ending
// with a letter or digit, with no two '-' in a row. The special containers
// "$root", "$web" and "$logs" are valid too. A bad name is
// ErrInvalidArgument.
func validateContainerName(name string) error {
	switch name {
	case "$root", "$web", "$logs":
		return nil
	}
	if len(name) < 3 || len(name) > 63 {
		return blob.Errorf(blob.ErrInvalidArgument, "azblob: container name %q must be 3 to 63 characters", name)
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' {
			continue
		}
		if ch != '-' || i == 0 || i == len(name)-1 || name[i-1] == '-' {
			return blob.Errorf(blob.ErrInvalidArgument, "azblob: container name %q: only lower-case letters, digits and single '-' are allowed, starting and ending with a letter or digit", name)
		}
	}
	return nil
}

// connString is the part of a storage connection string the provider uses.
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
