package aws

import "github.com/anyblob/anyblob/auth/sigv4"

// newSigner is the SigV4 signer for S3 in region.
func newSigner(region string) requestSigner { return &sigv4.Signer{Service: "s3", Region: region} }
