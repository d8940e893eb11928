// Package gcp is the Google Cloud Storage provider of anyblob, on
// cloud.google.com/go/storage.
//
// # URLs
//
// Importing the package registers the gs scheme with blob.Register:
//
//	gs://BUCKET?project=PROJECT&endpoint=URL&anonymous=true&compose_writes=true
//
// With blob.OpenFromEnv, CLOUD_PROVIDER=gcp (aliases gcs, gs) opens the
// same bucket. STORAGE_EMULATOR_HOST, when set, is read once, by the URL
// opener, and points the bucket at an emulator (fake-gcs-server) without
// credentials. Otherwise credentials come from auth/gcpcred: Application
// Default Credentials in their standard order
// (GOOGLE_APPLICATION_CREDENTIALS, the gcloud well-known file, the metadata
// server), with service-account keys, authorized users, impersonation and
// external accounts (AWS workload identity federation included). When none
// is found, opening fails with ErrUnauthenticated and the chain's report of
// every source. See FromURL.
//
// In code: New(ctx, Options{...}) returns a *Client, which holds the
// storage client and credentials and opens any number of buckets with
// Client.Bucket; OpenBucket does both, for one bucket. Client also creates
// and deletes buckets (CreateBucket, DeleteBucket).
//
// # Versions and ETags
//
// The ETag this provider exposes is the object's generation, quoted:
// "1700000000123456". It is the same from Attributes, List and
// Reader.Attrs. IfMatch (on reads and writes) is a generation match on that
// number; IfNotExist is the DoesNotExist precondition (ifGenerationMatch=0);
// both are checked by the service, atomically. A read is pinned to the
// generation it starts on; with IfMatch, to that generation.
//
// # Integrity
//
// A write that fits in one chunk is sent in one request that declares its
// CRC32C, checked by the service before anything is stored, and sent again
// when the service refuses it as changed on the way. A resumable upload
// sends the whole object's CRC32C with its last chunk, which GCS checks
// before it finalizes the object (fake-gcs-server does not check it). A
// full read verifies the object's CRC32C (the storage library does, and
// fails the read on a mismatch); a ranged read cannot be verified: the
// service sends no checksum for a range.
//
// A full read of an object of two parts or more (Options.ReadPartSize, 4
// MiB) goes parallel when one connection is the limit, with the engine
// every provider shares: its first MiB is timed and, below 128 MiB/s, the
// rest is fetched as ranges over up to Options.ReadConcurrency (15,
// adapting to the rate) connections
// at once, pinned to the first answer's generation and handed over in
// order; the whole stream is then checked against the object's CRC32C by
// this package. A reader holds at most ReadConcurrency × ReadPartSize
// bytes.
//
// WriterOptions.Checksum: CRC32C (the default, as above) or MD5, which a
// one-request write also declares (checked by the service before it
// stores anything) and a resumable upload checks against what the service
// stored; CRC64NVME and SHA256 are ErrNotImplemented. Attributes.Checksums
// holds the CRC32C and, for objects that are not composites, the MD5 GCS
// keeps for every object.
//
// # Retries
//
// Options.Retry (blob.RetryPolicy, the rules every provider shares)
// replaces the library's retry settings: every request, writes and deletes
// included, is retried on 5xx, 429, 408 and connection faults with the
// shared full-jitter waits, within a client-wide budget, and never past the
// caller's deadline, so repeated failures end with their own kind. A read
// cut short resumes from the last byte, pinned to the generation it began
// with.
//
// # Writes
//
// A Writer streams with a resumable upload in chunks of
// WriterOptions.PartSize (default 16 MiB, rounded up to 256 KiB), holding
// one chunk in memory; an object smaller than a chunk goes in one request at
// Close. Nothing is visible before Close; Abort or a canceled context
// cancels the upload.
//
// By default a write is one stream, unlike S3's parts and Azure's blocks:
// a resumable upload takes its chunks in order, and the storage library
// has no parallel upload over the JSON API (its transfermanager only
// downloads; its Writer's ParallelUploadConfig is gRPC-only and marked
// experimental). Over a far link such a write runs at one connection's
// rate, as the library's own Writer does. Options.ComposeWrites
// (compose_writes=true) sends an unconditional write larger than one part
// as parts in parallel, each a temporary object checked by its CRC32C,
// composed into the object at Close and then deleted: gcloud's parallel
// composite upload, with what it costs (a composite object with no MD5,
// parts visible under a prefix while the write runs; see the option). On
// the simulated 40 MiB/s, 20 ms link with fake-gcs-server (bench
// BenchmarkGCSFar, 128 MiB) it wrote at 75.9 MB/s against 18.7 for one
// stream and 20.3 for the library's Writer; at 10 MiB/s and 80 ms, 32.5
// against 7.2 and 7.7.
//
// # Signed URLs
//
// SignedURL signs V4 URLs with the service account key of Options.SignerKey
// (or of the credentials file), or, with no key, through the IAM
// Credentials signBlob call for the credentials' service account.
//
// # Errors
//
// The storage client's errors map to the blob sentinels in one place
// (errorDetail, in errors.go): storage.ErrObjectNotExist and
// ErrBucketNotExist are ErrNotFound; a JSON API error (*googleapi.Error) is
// mapped by its HTTP status with the table every HTTP provider shares (404
// ErrNotFound, 409 and 412 ErrPreconditionFailed, 401 ErrUnauthenticated,
// 403 ErrPermissionDenied, 429 and 503 ErrThrottled, 400 ErrInvalidArgument,
// ...), its first reason being the code. errors.As reaches the
// *googleapi.Error. Client's own calls (CreateBucket, DeleteBucket) return
// the storage client's errors unchanged.
//
// # Escape hatch (As)
//
// blob.As reaches, from a bucket, **gcp.Client, **storage.Client and
// **storage.BucketHandle; from a Reader, **storage.Reader; from a Writer,
// **storage.Writer.
//
// The Before hooks of the options reach what the request is made from
// (a hook declares var x *T and calls asFunc(&x)): BeforeWrite
// *storage.Writer (set KMSKeyName, ...); BeforeRead *storage.ObjectHandle,
// or *(*storage.ObjectHandle) to replace the handle (with Key, for a
// customer-supplied key); BeforeList *storage.Query; BeforeCopy
// *storage.Copier; BeforeSign *storage.SignedURLOptions.
//
// # Emulators
//
// conformance/emulator.FakeGCS starts a local fake-gcs-server: open its
// buckets with Options{Endpoint: srv.Endpoint, Anonymous: true}, or with
// STORAGE_EMULATOR_HOST=srv.Host and a gs:// URL. fake-gcs-server serves
// signed URLs without checking their signature or expiry, and ignores
// maxResults with a delimiter and preconditions on rewrites; the provider
// copes with the last two.
package gcp
