// Package all links in every provider anyblob has, so that blob.OpenBucket
// and blob.OpenFromEnv can open any URL scheme:
//
//	import _ "github.com/anyblob/anyblob/providers/all"
//
// A program that needs fewer providers imports only those, and compiles
// none of the other clouds' libraries.
package all

import (
	_ "github.com/anyblob/anyblob/blob/fileblob"   // file://
	_ "github.com/anyblob/anyblob/blob/memblob"    // mem://
	_ "github.com/anyblob/anyblob/providers/aws"   // s3://
	_ "github.com/anyblob/anyblob/providers/azure" // azblob://
	_ "github.com/anyblob/anyblob/providers/gcp"   // gs://
)
