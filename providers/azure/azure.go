// Package azure is the Azure Blob Storage driver, on
// github.com/Azure/azure-sdk-for-go/sdk/storage/azblob.
//
// Open a container with OpenBucket, or with blob.OpenBucket and a URL:
//
//	azblob://CONTAINER?account=ACCOUNT&endpoint=URL
//
// or with blob.OpenFromEnv and CLOUD_PROVIDER=azure (alias azblob). See
// FromURL for the parameters and the environment variables read.
// Credentials, first that applies: a connection string
// (AZURE_STORAGE_CONNECTION_STRING), a shared key (AZURE_STORAGE_KEY), a SAS
// token (AZURE_STORAGE_SAS_TOKEN), else a token credential from the Azure
// chain (managed identity first; see Options.Credential).
//
// Azurite: pass its connection string (emulator.AzuriteServer has one), or
// the URL azblob://CONTAINER?endpoint=http://127.0.0.1:10000/devstoreaccount1
// with AZURE_STORAGE_ACCOUNT=devstoreaccount1 and AZURE_STORAGE_KEY set to
// its well-known key.
//
// # Writes
//
// Objects up to one part (WriterOptions.PartSize, default 8 MiB) go in one
// Put Blob at Close. Larger ones are staged as blocks, Concurrency (default
// 4) at a time, from at most PartSize x Concurrency bytes of reused buffers,
// and committed with Put Block List at Close; nothing is visible before.
// IfNotExist (If-None-Match: *) and IfMatch (If-Match) go on the request
// that commits, Put Blob or Put Block List alike, so the service checks them
// atomically for staged uploads too. Abort, a failed part or a canceled
// context commit nothing; uncommitted blocks are dropped by the service
// (after a week, or at the next commit).
//
// # Metadata
//
// Azure metadata names must be C# identifiers. Keys (letters, digits, '-'
// and '_', see blob.WriterOptions) are mapped the same way every time,
// reversibly: '_' is stored as "__" and '-' as "_h", so "content-id" is
// stored as "content_hid" and read back as "content-id". Values that are not
// printable ASCII without surrounding spaces, or that look like an encoded
// word, are stored as one RFC 2047 "B" word and decoded on read.
//
// # Signed URLs
//
// SignedURL returns a service SAS signed with the shared key, or, with a
// token credential, a user delegation SAS (the credential needs the
// Storage Blob Delegator role). A container opened with a SAS token cannot
// sign (ErrNotImplemented). The user delegation SAS is not verified against
// Azurite: azblob 1.8.3 signs the newest string-to-sign (with the signed
// request header and query lines), which Azurite 3.35 does not know.
//
// blob.As reaches **container.Client and, from a Reader, **blob.DownloadStreamResponse.
package azure

import (
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/anyblob/anyblob/blob"
)

// Scheme is the URL scheme this driver registers: "azblob".
const Scheme = "azblob"

// Defaults for uploads.
const (
	DefaultPartSize    = 8 << 20
	DefaultConcurrency = 4
	// MaxBlocks is the most blocks a block blob can have.
	MaxBlocks = 50_000
	// MaxBlockSize is the largest block the service takes.
	MaxBlockSize = 4000 << 20
)

// Options configures OpenBucket. Exactly one way to authenticate is used,
// in this order: ConnectionString, SharedKey (with Account), SASToken,
// Credential; with none of them, the Azure chain of auth/azurecred.
type Options struct {
	// ServiceURL is the blob endpoint, "https://ACCOUNT.blob.core.windows.net"
	// by default (from Account); for Azurite,
	// "http://127.0.0.1:10000/devstoreaccount1".
	ServiceURL string
	// Account is the storage account name.
	Account string
	// ConnectionString is a storage connection string; it names the
	// endpoint and the key (or SAS) itself.
	ConnectionString string
	// SharedKey is the account key, base64.
	SharedKey string
	// SASToken is a SAS query string ("sv=...&sig=..."), with or without '?'.
	SASToken string
	// Credential is a token credential (managed identity, workload
	// identity, service principal, CLI).
	Credential azcore.TokenCredential
	// ClientOptions are passed to the azblob client (transport, retries).
	ClientOptions *service.ClientOptions
}

type driver struct {
	cc   *container.Client
	sc   *service.Client // nil when opened with a SAS token or a connection string holding one
	name string
	// userDelegation is true when signing needs a user delegation key.
	userDelegation bool
	sharedKey      *service.SharedKeyCredential
}

// etag returns an ETag in the quoted form every method exposes.
func etag(e *azcore.ETag) string {
	if e == nil {
		return ""
	}
	s := string(*e)
	if !strings.HasPrefix(s, `"`) {
		s = `"` + s + `"`
	}
	return s
}

// Bucket-level operations live in driver.go; opening in open.go; errors in
// errors.go; metadata in metadata.go.
var _ blob.Driver = (*driver)(nil)
