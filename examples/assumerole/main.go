// Command assumerole assumes an IAM role with STS AssumeRole, using the
// credentials the AWS chain finds, and lists a bucket with the role's
// temporary credentials:
//
//	go run ./examples/assumerole -role arn:aws:iam::123456789012:role/reader -bucket my-bucket -region eu-west-1
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/anyblob/anyblob/auth/awscred"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/providers/aws"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "assumerole:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("assumerole", flag.ContinueOnError)
	role := fs.String("role", "", "the role ARN to assume (required)")
	bucket := fs.String("bucket", "", "the bucket to list (required)")
	region := fs.String("region", "", "the region (default: the chain's)")
	stsEndpoint := fs.String("sts-endpoint", "", "an STS endpoint override")
	allowHTTP := fs.Bool("allow-http", false, "let -sts-endpoint be http:// (a local emulator or fake)")
	s3Endpoint := fs.String("s3-endpoint", "", "an S3 endpoint override (http only for a local server)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *role == "" || *bucket == "" {
		return fmt.Errorf("usage: assumerole -role ARN -bucket NAME [-region R]")
	}
	chain, err := awscred.NewChain(&awscred.Options{Getenv: getenv, AllowHTTP: *allowHTTP})
	if err != nil {
		return err
	}
	if *region == "" {
		*region = chain.Config().Region
	}
	roleCreds, err := awscred.AssumeRole(chain, awscred.AssumeRoleOptions{
		RoleARN: *role, Region: *region, Endpoint: *stsEndpoint, SessionName: "anyblob-example", AllowHTTP: *allowHTTP,
	})
	if err != nil {
		return err
	}
	creds, err := roleCreds.Retrieve(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "assumed %s: %v, expires %s\n", *role, creds, creds.Expires.Format(time.RFC3339))

	b, err := aws.OpenBucket(ctx, *bucket, aws.Options{Region: *region, Endpoint: *s3Endpoint, Credentials: roleCreds})
	if err != nil {
		return err
	}
	defer b.Close()
	for obj, err := range blob.Objects(ctx, b, nil) {
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%10d %s\n", obj.Size, obj.Key)
	}
	return nil
}
