// Package blob is anyblob's portable object-storage API: one Bucket
// interface that works the same on AWS S3 (and S3-compatible servers), Azure
// Blob Storage, Google Cloud Storage, a local directory and memory.
//
// # URLs
//
// OpenBucket opens a bucket by URL, with the provider chosen by the scheme:
//
//	s3://bucket?region=eu-west-1&endpoint=http://127.0.0.1:9000
//	azblob://container?account=myaccount
//	gs://bucket
//	file:///path/to/dir
//	mem://name
//
// OpenFromEnv opens the bucket CLOUD_PROVIDER and CLOUD_BUCKET name, and with
// neither set, a local directory, so a program runs with no cloud account.
// Providers register themselves from init: import the ones you use, or
// github.com/anyblob/anyblob/providers/all.
//
// # Errors
//
// Every error a Bucket returns is a *Error and matches exactly one sentinel
// with errors.Is: ErrNotFound, ErrPreconditionFailed, ErrPermissionDenied,
// ErrUnauthenticated, ErrInvalidArgument, ErrNotImplemented, ErrThrottled,
// ErrCanceled or ErrInternal. errors.As reaches the provider's native error.
//
// # Writing a provider
//
// A provider implements Bucket (its "driver") and returns NewBucket(scheme,
// name, driver) from its constructor and its URL opener. NewBucket checks keys
// and options and normalises errors once for every provider, so the driver
// sees only valid input and non-nil options.
//
// # Escape hatch
//
// As reaches a provider's native client, reader or writer, for what the
// portable API does not cover; each provider documents the types it offers.
package blob
