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
// # Layers
//
// Three layers, each with one job:
//
//   - This package is what users hold. Bucket is sealed: only NewBucket
//     makes one, so every bucket checks keys and options, fills in
//     defaults, wraps every error into one *Error with one sentinel, aborts
//     canceled writes and passes its Observers, whatever the provider.
//     Decorators (Prefixed, ReadOnly, Observe) wrap the driver beneath, so
//     stacking them checks and wraps once.
//   - A driver (a provider's package, memblob, fileblob) implements Driver
//     on already-valid input and says in ErrorDetail what its native errors
//     mean. Machinery several drivers share (the parallel upload engine, the
//     HTTP status table, URL parameters, paging) lives in the module's
//     internal packages.
//   - Protocol clients (the S3 client of providers/aws, azblob, the GCS
//     client) work on their own with their own error types; a driver maps
//     them at its boundary.
//
// # Writing a provider
//
// A new provider is one folder: a type implementing Driver, a constructor
// returning NewBucket(scheme, name, driver), and an init that calls
// Register with its Provider (name, scheme, CLOUD_PROVIDER aliases, URL
// opener). Nothing in this package changes. Run the conformance suite
// (package conformance) on it.
//
// # Per-call native access
//
// Every options struct has a Before hook (ReaderOptions.BeforeRead,
// WriterOptions.BeforeWrite, ...) called once before the operation's first
// request with an asFunc that reaches the provider's native request or
// options, for what the portable options do not cover. Each provider
// documents its types.
//
// # Escape hatch
//
// As reaches a provider's native client, reader or writer, for what the
// portable API does not cover; each provider documents the types it offers.
package blob
