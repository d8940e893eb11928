// Command callertoken prints a signed STS GetCallerIdentity request, made
// with the credentials the AWS chain finds and never sent, in the form a
// credential exchange takes:
//
//	go run ./examples/callertoken -gcp //iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/aws
//	go run ./examples/callertoken -vault vault.example.com
//
// The first is the subject token of GCP workload identity federation; the
// second the JSON body of a Vault AWS auth method login.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/anyblob/anyblob/auth/awscred"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "callertoken:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("callertoken", flag.ContinueOnError)
	gcp := fs.String("gcp", "", "GCP workload identity provider resource name: print its subject token")
	vault := fs.String("vault", "", "Vault server ID header value (or \"-\" for none): print the login body")
	region := fs.String("region", "", "STS region for -gcp (default: the chain's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*gcp == "") == (*vault == "") {
		return fmt.Errorf("usage: callertoken -gcp RESOURCE | -vault SERVER_ID")
	}
	chain, err := awscred.NewChain(&awscred.Options{Getenv: getenv})
	if err != nil {
		return err
	}
	if *gcp != "" {
		if *region == "" {
			*region = chain.Config().Region
		}
		tok, err := awscred.GCPSubjectToken(ctx, chain, *region, *gcp)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, tok)
		return err
	}
	id := *vault
	if id == "-" {
		id = ""
	}
	data, err := awscred.VaultLoginData(ctx, chain, id)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(data)
}
