// Package aws is the S3 provider of anyblob: its own S3 REST client, signed
// with auth/sigv4, for AWS S3 and S3-compatible servers (MinIO first). It
// uses no AWS SDK.
//
// # URLs
//
// Importing the package registers the s3 scheme with blob.Register:
//
//	s3://BUCKET?region=R&endpoint=URL&use_path_style=true&profile=NAME&escape_keys=true&verbatim_keys=true&anonymous=true
//
// See FromURL for how each parameter falls back to the environment
// (AWS_REGION, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
// and the credentials). Requests go over https; http is used only when an
// explicit endpoint says so. Buckets are addressed virtual-hosted style
// (BUCKET.s3.REGION.amazonaws.com) unless use_path_style is set, the
// endpoint's host is an IP address or localhost, or the bucket name has dots
// and the scheme is https. With blob.OpenFromEnv, CLOUD_PROVIDER=aws and
// CLOUD_BUCKET=BUCKET open the same bucket.
//
// In code: New(Options{...}) returns a *Client, and Client.Bucket(name) a
// blob.Bucket; OpenBucket does both.
//
// # Transfers
//
// Writes that fit in one part are one PutObject at Close; larger ones are
// multipart uploads whose parts are sent while the caller writes, with at
// most Concurrency part buffers of PartSize bytes, reused. Part sizes grow
// on their own so a stream of unknown size up to 5 TiB fits in 10,000
// parts. A failed, aborted or canceled write aborts its multipart upload:
// nothing is visible and nothing is left behind. Conditional writes
// (IfNotExist, IfMatch) are sent as If-None-Match: * and If-Match on
// PutObject and on CompleteMultipartUpload. Copies over 5 GiB, and every
// copy with IfNotExist, are multipart uploads of UploadPartCopy parts.
// Defaults: parts of 8 MiB, 8 at once (Options.PartSize, Concurrency);
// with Concurrency left at 0, a file or other io.ReaderAt (whose parts are
// read as they are sent, with no buffer) goes up to 16 at once while the
// rate grows (internal/adapt).
//
// Reads: a full read of an object of two read parts or more times its
// first MiB; on a link slower than 128 MiB/s a connection, the rest comes
// as ranges over several connections at once (12 at first, growing while
// the rate grows up to Options.ReadConcurrency, 15, of ReadPartSize,
// 4 MiB), pinned to the first answer's ETag, handed
// over in order and checked against the whole object's checksum, so that
// one far connection's cap does not cap the read; on loopback it stays
// one stream. internal/pread is the engine, shared with Azure and GCS.
//
// Integrity: over https the payload is UNSIGNED-PAYLOAD and each body
// carries an x-amz-checksum-crc32c the server verifies; over http every
// body's SHA-256 is signed. A multipart upload asks for a full-object
// CRC32C (x-amz-checksum-type FULL_OBJECT): every part carries its CRC32C
// and the commit the whole object's, computed as the caller writes, which
// the service checks against the parts. A body the server refuses as
// changed (BadDigest, XAmzContentSHA256Mismatch) is sent again. A full read
// checks the object's full CRC32C at the end, failing with ErrInternal on a
// mismatch; a ranged read cannot be verified (S3 sends no checksum for a
// range), nor can a full read of an object that has only a composite
// checksum or none (one written by another client).
//
// WriterOptions.Checksum chooses the algorithm: CRC32C (the default) and
// CRC64NVME are full-object checksums of any object, checked on every
// full read; SHA256 is full-object for a one-part object and COMPOSITE
// (a checksum of the parts' checksums, checked per part on write, not on
// read) for a multipart one, as S3 has no full-object SHA-256; MD5 adds a
// Content-MD5 to every body and keeps the CRC32C. On a server whose
// profile takes no x-amz-checksum-* header, bodies carry Content-MD5 only
// and any other choice is ErrNotImplemented. Attributes asks for the
// stored checksums (x-amz-checksum-mode) and returns the full-object ones,
// and a one-part object's MD5 (its ETag), in Attributes.Checksums.
//
// Retries: Options.Retry (blob.RetryPolicy, the rules every provider
// shares). Idempotent requests and parts are retried on connection errors,
// stalls (Options.StallTimeout), 408, 500, 502, 503, 504, 429, SlowDown,
// RequestTimeout and a body refused as changed, with full-jitter waits,
// within a client-wide budget, never past the caller's deadline. A read
// that fails mid-body resumes from the byte it reached, pinned to the
// object's ETag with If-Match, so a changed object fails the read with
// ErrPreconditionFailed and is never stitched together.
//
// # Errors
//
// S3's XML error codes map to the blob sentinels in one table (s3Codes):
// NoSuchKey, NoSuchBucket, NoSuchUpload → ErrNotFound; PreconditionFailed,
// ConditionalRequestConflict → ErrPreconditionFailed; AccessDenied →
// ErrPermissionDenied; InvalidAccessKeyId, SignatureDoesNotMatch,
// ExpiredToken → ErrUnauthenticated; SlowDown and the throttling codes →
// ErrThrottled; InvalidArgument, InvalidRange, EntityTooLarge, ... →
// ErrInvalidArgument; NotImplemented → ErrNotImplemented; anything else by
// its HTTP status, by the table every HTTP driver shares. The *blob.Error
// keeps S3's code, status and request ID, and errors.As reaches the *Error
// with S3's message. The Client itself returns only its own errors (*Error,
// ErrInvalidOptions, ErrInvalidRequest, ErrCredentials), never blob's, so it
// can be used on its own.
//
// # Escape hatch
//
// blob.As(bucket, &client) with client of type *aws.Client reaches the
// Client, whose Do sends any S3 request signed and retried, and which has
// CreateBucket, DeleteBucket and ListMultipartUploads.
//
// The Before hooks of the options (BeforeRead, BeforeWrite, BeforeList,
// BeforeCopy) reach the *Request about to be sent (a hook declares
// var r *aws.Request and calls asFunc(&r)), whose Header and Query it may
// change: a GetObject, a
// PutObject or CreateMultipartUpload, a ListObjectsV2, a CopyObject or
// CreateMultipartUpload. BeforeSign reaches the *http.Request about to be
// presigned (target type **http.Request).
//
// # S3-compatible servers
//
// What a server stores and honors differs from AWS in ways that lose data
// silently: a key stored under another name (then never listed under its
// own, or written outside a blob.Prefixed view: "tenant/../x" resolved to
// "x"), an object hidden by another, a conditional write ignored. The
// driver knows the servers users run from each one's own documentation,
// as a profile: Options.Profile or profile=NAME in the URL names it;
// otherwise the endpoint's host does (amazonaws.com, r2.cloudflarestorage.com,
// backblazeb2.com, wasabisys.com, storage.googleapis.com), else the Server
// header of the first answer (AmazonS3, MinIO, Ceph Object Gateway,
// SeaweedFS; the first write asks with one HEAD of the bucket when
// nothing has answered yet), else the generic profile. Client.Profile
// says which one is in use.
//
//	profile    keys refused before any request    object+folder  checksums      conditional writes
//	aws        none                               yes            CRC32C, full   yes
//	minio      leading /, //, . and .. segments,  no (checked)   CRC32C, full   yes
//	           segments over 255 bytes
//	ceph       none                               yes            Content-MD5    yes
//	r2         Unicode not in NFC                 yes            Content-MD5    yes
//	b2         leading /, //, \                   yes            Content-MD5    no
//	wasabi     leading /, //, . and .. segments   yes            Content-MD5    no
//	gcs        the keys "." and ".."              yes            Content-MD5    no (use gs://)
//	seaweedfs  leading /, //, . and .., \         no (checked)   Content-MD5    no
//	garage     none                               yes            Content-MD5    no
//	generic    leading /, //, . and .. segments   yes            CRC32C, full   yes
//
// Keys refused: a key of those kinds fails with ErrInvalidArgument naming
// the server and the rule, before any request, for every operation, so
// nothing is written that cannot be read and listed under its own name.
// Where the server is not known, the generic profile refuses the kinds
// most servers that keep objects as files mangle. blob.LimitsOf reports
// the rule (Limits.Refuses). Object+folder "no (checked)": the server
// keeps objects as files and hides one of "a" and "a/1" from listings; a
// write first checks that it clashes with nothing, and fails with
// ErrInvalidArgument if it does (not atomic against a concurrent clashing
// write; Limits.NoObjectFolders). The check costs, per folder and per 10
// seconds, a HEAD of each parent folder and one listing of the folder
// (of its subfolders), shared by the writes into it, not a request per
// key; within those 10 seconds a clashing object written by another
// client goes unseen. A folder of more than 1,000 entries is checked with
// a one-key listing under each key.
// Checksums "CRC32C, full": bodies carry x-amz-checksum-crc32c and
// multipart uploads a full-object CRC32C; "Content-MD5": the server takes
// no x-amz-checksum-* header (B2), or not every release of it takes a
// full-object one (R2 has composite CRC32C only, Ceph and SeaweedFS since
// 2025–26), so every body carries Content-MD5, which every S3 server
// checks. Conditional writes "no": the server is not documented to apply
// If-None-Match and If-Match atomically (SeaweedFS ignored them before
// 2025 and let concurrent create-only writes all succeed after; GCS's XML
// multipart uploads take no preconditions), so IfNotExist and IfMatch
// writes and copies fail with ErrNotImplemented before anything is sent,
// rather than overwrite silently; profile=generic opts a server you know
// into them. Part limits are S3's on every server (5 MiB to 5 GiB, 10,000
// parts). A file or other source of known size is sent in equal parts
// (but the last), as R2 requires; a stream of unknown size is sent in
// parts that double every 1,089 parts (from 8 MiB: after some 8.5 GiB)
// so that 5 TiB fits, except on R2, where they stay at the part size, so
// such a stream holds at most PartSize × 10,000 bytes (78 GiB at the
// default 8 MiB; set a larger WriterOptions.PartSize for more).
//
// Two opt-outs, each for one situation. verbatim_keys=true
// (Options.VerbatimKeys) says the server stores every key as given: no
// key is refused and no object+folder check is made. escape_keys=true
// (Options.EscapeKeys) stores every key escaped (see EscapeKeys), so a
// server that keeps objects as files holds any key and an object beside
// its folder; the cost is that the stored names are not the keys, so
// objects written by other tools are invisible to anyblob and the reverse:
// for a bucket only anyblob uses.
//
// # Emulators
//
// conformance/emulator.MinIO starts a local MinIO. This package's
// conformance tests run on it with the default options (the minio
// profile's refusals declared through blob.LimitsOf and checked), with
// escape_keys=true, and over TLS.
package aws
