// Package azure is the Azure Blob Storage provider of anyblob, on
// github.com/Azure/azure-sdk-for-go/sdk/storage/azblob.
//
// # URLs
//
// Importing the package registers the azblob scheme with blob.Register:
//
//	azblob://CONTAINER?account=ACCOUNT&endpoint=URL
//
// With blob.OpenFromEnv, CLOUD_PROVIDER=azure (alias azblob) opens the same
// container. See FromURL for the parameters and the environment variables
// read. Credentials, first that applies: a connection string
// (AZURE_STORAGE_CONNECTION_STRING), a shared key (AZURE_STORAGE_KEY), a SAS
// token (AZURE_STORAGE_SAS_TOKEN), else a token credential from the Azure
// chain (managed identity first; see Options.Credential).
//
// In code: New(ctx, Options{...}) returns a *Client, which holds the service
// client and credentials and opens any number of containers with
// Client.Bucket; OpenBucket does both, for one container. Client also
// creates and deletes containers (CreateContainer, DeleteContainer).
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
// (after a week, or at the next commit). Block sizes grow from PartSize so
// that 50,000 blocks hold 190 TiB (the upload engine of internal/upload).
//
// # Integrity
//
// On write, every block carries its CRC64 (x-ms-content-crc64; its MD5
// on a server that refuses CRC64, as Azurite does in strict mode), every
// single upload its MD5 (transactional validation), and so does the block
// list of a commit (the SDK sends none; a pipeline step adds it): the
// service refuses a body that arrived changed, and the request is sent
// again. The writer also
// computes the whole blob's MD5 as the caller writes and stores it with
// the blob (x-ms-blob-content-md5).
//
// On read, a full read is checked against the blob's Content-MD5 (every
// blob this package writes has one; a blob committed elsewhere without one
// is read unverified). A range is read in windows of at most 4 MiB, each
// checked against the MD5 the service computes for it
// (x-ms-range-get-content-md5), the windows after the first pinned to its
// ETag. A mismatch fails the read with ErrInternal by the end of the
// window (or of the blob) that holds the bad byte; bytes before that have
// been handed over, so a caller that must not act on bad data reads to the
// end (ReadAll, Download) first. A read cut short (a reset, a truncated
// body) resumes from the last byte read, pinned to the blob's ETag.
//
// A full read of a blob of two parts or more (Options.ReadPartSize, 4 MiB)
// goes parallel when one connection is the limit, with the engine every
// provider shares: its first MiB is timed and, below 128 MiB/s, the rest
// is fetched as ranges over up to Options.ReadConcurrency (15, adapting
// to the rate) connections at
// once, each a verified 4 MiB window pinned to the first answer's ETag,
// and handed over in order; the whole stream is then also checked against
// the blob's Content-MD5. A reader holds at most ReadConcurrency ×
// ReadPartSize bytes. The azblob client's own parallel download
// (DownloadBuffer, DownloadFile) fills a buffer or file and cannot be a
// streaming Reader, which is why it is not used.
//
// WriterOptions.Checksum: MD5 (the default, as above) is the only
// whole-blob checksum Azure stores; CRC32C, CRC64NVME and SHA256 are
// ErrNotImplemented (Azure's CRC64 is checked per request and not kept).
// Attributes.Checksums holds the blob's MD5 when it has one.
//
// # Retries
//
// Options.Retry (blob.RetryPolicy, the rules every provider shares)
// replaces the SDK's retry policy: 408, 429, 500, 502, 503, 504,
// connection faults and a body refused as changed (Md5Mismatch,
// Crc64Mismatch) are retried with full-jitter waits, within a client-wide
// budget, and never past the caller's deadline: the last failure is the
// answer. Every request is signed afresh for each attempt.
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
// # Errors
//
// Azure's error codes map to the blob sentinels in one table (codes, in
// errors.go): BlobNotFound, ContainerNotFound → ErrNotFound;
// ConditionNotMet, BlobAlreadyExists, ContainerAlreadyExists →
// ErrPreconditionFailed; AuthorizationFailure and the other authorization
// codes → ErrPermissionDenied; AuthenticationFailed →
// ErrUnauthenticated; ServerBusy → ErrThrottled; anything else by its HTTP
// status. The *blob.Error keeps Azure's code, status and request ID, and
// errors.As reaches the *azcore.ResponseError. Client's own calls
// (CreateContainer, DeleteContainer) return the SDK's errors unchanged.
//
// # Escape hatch (As)
//
// blob.As reaches, from a bucket, **azure.Client and **container.Client;
// from a Reader, **blob.DownloadStreamResponse (of the azblob/blob
// package).
//
// The Before hooks of the options reach the SDK's options for the request
// about to be sent, which they may change: BeforeRead
// **blob.DownloadStreamOptions; BeforeWrite **blockblob.UploadOptions (one
// request) or **blockblob.CommitBlockListOptions (staged blocks, before the
// first is staged); BeforeList **container.ListBlobsFlatOptions, or
// **container.ListBlobsHierarchyOptions with a delimiter; BeforeCopy
// **blob.StartCopyFromURLOptions; BeforeSign **sas.BlobSignatureValues.
//
// # Emulators
//
// conformance/emulator.Azurite starts a local Azurite. Pass its connection
// string (AzuriteServer.ConnectionString), or use the URL
// azblob://CONTAINER?endpoint=http://127.0.0.1:10000/devstoreaccount1 with
// AZURE_STORAGE_ACCOUNT=devstoreaccount1 and AZURE_STORAGE_KEY set to its
// well-known key.
package azure
