// Command apigateway calls an API Gateway URL (or any AWS service that
// takes SigV4) with credentials from the AWS chain, signing each request
// with sigv4.Transport — the Go counterpart of aws4-axios's interceptor:
//
//	go run ./examples/apigateway https://abc123.execute-api.eu-west-1.amazonaws.com/prod/items
//
// The region comes from -region, else from the URL's host, else from the
// chain (AWS_REGION or the profile).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/anyblob/anyblob/auth/awscred"
	"github.com/anyblob/anyblob/auth/sigv4"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "apigateway:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("apigateway", flag.ContinueOnError)
	region := fs.String("region", "", "the API's region")
	service := fs.String("service", "execute-api", "the SigV4 service name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: apigateway [-region R] [-service S] URL")
	}
	target := fs.Arg(0)
	chain, err := awscred.NewChain(&awscred.Options{Getenv: getenv})
	if err != nil {
		return err
	}
	if *region == "" {
		*region = regionFromHost(target)
	}
	if *region == "" {
		*region = chain.Config().Region
	}
	if *region == "" {
		return fmt.Errorf("no region: use -region or set AWS_REGION")
	}
	client := &http.Client{Transport: &sigv4.Transport{Source: chain, Signer: &sigv4.Signer{Service: *service, Region: *region}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	fmt.Fprintln(out, resp.Status)
	_, err = io.Copy(out, resp.Body)
	return err
}

// regionFromHost reads the region of an API Gateway host
// (ID.execute-api.REGION.amazonaws.com), or returns "".
func regionFromHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	parts := strings.Split(u.Hostname(), ".")
	if len(parts) == 5 && parts[1] == "execute-api" && parts[3] == "amazonaws" {
		return parts[2]
	}
	return ""
}
