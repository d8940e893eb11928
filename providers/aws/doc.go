// Package aws is the S3 provider of anyblob: its own S3 REST client, signed
// with auth/sigv4, for AWS S3 and S3-compatible servers (MinIO first). It
// uses no AWS SDK.
//
// # URLs
//
// Importing the package registers the s3 scheme with blob.Register:
//
//	s3://BUCKET?region=R&endpoint=URL&use_path_style=true&escape_keys=true&anonymous=true
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
// # Emulators
//
// conformance/emulator.MinIO starts a local MinIO. MinIO keeps objects as
// files, so it refuses keys with empty, "." or ".." segments and cannot
// list both "a" and "a/1"; Options.EscapeKeys (escape_keys=true) stores
// keys in an order-preserving escaped form that it can hold, and this
// package's conformance test runs that way.
package aws
