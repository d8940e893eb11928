// Package bench holds anyblob's benchmarks against the libraries it is
// measured by: aws-sdk-go-v2 and minio-go for SigV4 and S3, azblob for Azure,
// and the GCS client for Google Cloud Storage. It is its own module so that
// those libraries never become dependencies of anyblob itself.
//
// Run from this folder: go test -run '^$' -bench . -benchmem
package bench
