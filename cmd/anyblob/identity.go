package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/cobra"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/awscred"
	"github.com/anyblob/anyblob/auth/azurecred"
	"github.com/anyblob/anyblob/auth/gcpcred"
	"github.com/anyblob/anyblob/auth/sigv4"
)

// awsChain is the AWS credential chain of the environment. An STS
// endpoint override on loopback (an emulator or a test's fake) may be
// http; any other must be https.
func awsChain() (*awscred.Chain, error) {
	allowHTTP := false
	for _, v := range []string{"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"} {
		if u, err := url.Parse(os.Getenv(v)); err == nil && isLoopback(u.Hostname()) {
			allowHTTP = true
		}
	}
	return awscred.NewChain(&awscred.Options{AllowHTTP: allowHTTP})
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func whoamiCmd() *cobra.Command {
	var clouds []string
	var region string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "whoami",
		Short: "Say which credentials each cloud's chain picks, and why",
		Long: `For each cloud, run its credential chain as the library does and print its
report: the source it used, and why each source before it was skipped or
failed. For AWS, also ask STS who the credentials belong to
(GetCallerIdentity). Nothing secret is printed.

The chains read the environment as the SDKs do: AWS_* (and ~/.aws), AZURE_*
(and the Azure CLI's login), GOOGLE_APPLICATION_CREDENTIALS (and gcloud's
login). Metadata servers are asked only where the environment allows it.
The exit status is 0 when every cloud asked for has credentials, 1 when one
has none.`,
		Example: `  anyblob whoami
  anyblob whoami --cloud aws --region eu-west-1`,
		Args: nArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			var missing []string
			for _, cloud := range clouds {
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				var err error
				switch cloud {
				case "aws":
					err = whoamiAWS(ctx, out, region)
				case "azure":
					err = whoamiAzure(ctx, out)
				case "gcp":
					err = whoamiGCP(ctx, out)
				default:
					cancel()
					return usagef("unknown cloud %q (known: aws, azure, gcp)", cloud)
				}
				cancel()
				if err != nil {
					fmt.Fprintf(out, "%s: %v\n", cloud, oneLine(err))
					missing = append(missing, cloud)
				}
				fmt.Fprintln(out)
			}
			if len(missing) > 0 {
				return fmt.Errorf("no usable credentials for %s", strings.Join(missing, ", "))
			}
			return nil
		},
	}
	c.Flags().StringSliceVar(&clouds, "cloud", []string{"aws", "azure", "gcp"}, "the clouds to ask, comma-separated: aws, azure, gcp")
	c.Flags().StringVar(&region, "region", "", "the STS region for AWS (default: the chain's region, else us-east-1)")
	c.Flags().DurationVar(&timeout, "timeout", 20*time.Second, "how long each cloud may take")
	return c
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// callerIdentity is the answer of STS GetCallerIdentity.
type callerIdentity struct {
	Arn     string `xml:"GetCallerIdentityResult>Arn"`
	Account string `xml:"GetCallerIdentityResult>Account"`
	UserID  string `xml:"GetCallerIdentityResult>UserId"`
}

func whoamiAWS(ctx context.Context, out io.Writer, region string) error {
	chain, err := awsChain()
	if err != nil {
		return err
	}
	creds, err := chain.Retrieve(ctx)
	fmt.Fprintln(out, chain.Report())
	if err != nil {
		return fmt.Errorf("no credentials")
	}
	if region == "" {
		region = chain.Config().Region
	}
	if region == "" {
		region = "us-east-1"
	}
	req, body, err := awscred.CallerIdentityRequest(creds, region, chain.Config().STSEndpoint, nil, false, time.Now())
	if err != nil {
		return err
	}
	req = req.WithContext(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GetCallerIdentity: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GetCallerIdentity: STS answered %s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	var id callerIdentity
	if err := xml.Unmarshal(raw, &id); err != nil {
		return fmt.Errorf("GetCallerIdentity: unreadable answer: %v", err)
	}
	fmt.Fprintf(out, "aws identity: %s (account %s, user id %s)\n", id.Arn, id.Account, id.UserID)
	return nil
}

func whoamiAzure(ctx context.Context, out io.Writer) error {
	chain, err := azurecred.NewChain(nil)
	if err != nil {
		return err
	}
	_, err = chain.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://storage.azure.com/.default"}})
	printReport(out, chain.Report(), "azure")
	if err != nil {
		return fmt.Errorf("no token for Azure Storage")
	}
	return nil
}

func whoamiGCP(ctx context.Context, out io.Writer) error {
	_, rep, err := gcpcred.Find(ctx, nil)
	printReport(out, rep, "gcp")
	if err != nil {
		return fmt.Errorf("no credentials")
	}
	return nil
}

func printReport(out io.Writer, rep auth.Report, chain string) {
	if rep.Chain == "" {
		rep.Chain = chain
	}
	fmt.Fprintln(out, rep)
}

// regionLabel matches an AWS region in a host name: us-east-1, eu-west-3.
var regionLabel = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-\d+$`)

// serviceAndRegion reads the SigV4 service and region of an AWS host
// (SERVICE.REGION.amazonaws.com, ID.SERVICE.REGION.amazonaws.com); ""
// for what it cannot tell.
func serviceAndRegion(host string) (service, region string) {
	labels := strings.Split(strings.ToLower(host), ".")
	for i, l := range labels {
		if regionLabel.MatchString(l) {
			region = l
			if i > 0 {
				service = labels[i-1]
			}
			return service, region
		}
	}
	if len(labels) > 2 && strings.HasSuffix(host, ".amazonaws.com") {
		service = labels[len(labels)-3] // a global endpoint: iam.amazonaws.com
	}
	return service, region
}

func signCmd() *cobra.Command {
	var service, region, method, data string
	var headers []string
	var verbose, include bool
	c := &cobra.Command{
		Use:     "sign URL",
		Aliases: []string{"curl"},
		Short:   "Send an HTTP request signed with SigV4 (any AWS API, API Gateway with IAM auth)",
		Long: `Send one HTTP request, signed with AWS Signature Version 4 by the AWS
credential chain, and print the response body; a status other than 2xx
exits 1 after printing it. The service and region come from the host
(SERVICE.REGION.amazonaws.com, ID.execute-api.REGION.amazonaws.com) unless
given. With -v the signed request and the response's status and headers go
to standard error, the signature and the session token masked.`,
		Example: `  anyblob sign https://abc123.execute-api.eu-west-1.amazonaws.com/prod/items
  anyblob sign -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
      -d 'Action=GetCallerIdentity&Version=2011-06-15' https://sts.us-east-1.amazonaws.com/
  anyblob sign --service es --region eu-west-1 https://search-x.eu-west-1.es.amazonaws.com/_cat/indices`,
		Args: nArgs(1, 1, "one URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := url.Parse(args[0])
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usagef("%q is not an http(s) URL", args[0])
			}
			hs, hr := serviceAndRegion(u.Hostname())
			if service == "" {
				service = hs
			}
			chain, err := awsChain()
			if err != nil {
				return err
			}
			if region == "" {
				region = hr
			}
			if region == "" {
				region = chain.Config().Region
			}
			if service == "" || region == "" {
				return usagef("cannot tell the SigV4 service and region from %s: give --service and --region", u.Host)
			}
			var body []byte
			switch {
			case strings.HasPrefix(data, "@"):
				if body, err = os.ReadFile(data[1:]); err != nil {
					return err
				}
			case data != "":
				body = []byte(data)
			}
			if method == "" {
				method = http.MethodGet
				if data != "" {
					method = http.MethodPost
				}
			}
			req, err := http.NewRequestWithContext(cmd.Context(), method, u.String(), bytes.NewReader(body))
			if err != nil {
				return usagef("%v", err)
			}
			for _, h := range headers {
				k, v, ok := strings.Cut(h, ":")
				if !ok || strings.TrimSpace(k) == "" {
					return usagef("header %q is not 'Name: value'", h)
				}
				req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
			creds, err := chain.Retrieve(cmd.Context())
			if err != nil {
				return err
			}
			signer := &sigv4.Signer{Service: service, Region: region}
			if err := signer.Sign(req, creds, payloadHash(body), time.Now()); err != nil {
				return err
			}
			if verbose {
				showRequest(cmd.ErrOrStderr(), req)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if verbose || include {
				w := cmd.ErrOrStderr()
				if include {
					w = cmd.OutOrStdout()
				}
				fmt.Fprintf(w, "%s %s\n", resp.Proto, resp.Status)
				writeHeaders(w, resp.Header, "")
				fmt.Fprintln(w)
			}
			if _, err := io.Copy(cmd.OutOrStdout(), resp.Body); err != nil {
				return err
			}
			if resp.StatusCode/100 != 2 {
				return fmt.Errorf("the service answered %s", resp.Status)
			}
			return nil
		},
	}
	c.Flags().StringVar(&service, "service", "", "the SigV4 service name (default: from the host)")
	c.Flags().StringVar(&region, "region", "", "the SigV4 region (default: from the host, else the chain's)")
	c.Flags().StringVarP(&method, "request", "X", "", "the HTTP method (default GET, or POST with -d)")
	c.Flags().StringArrayVarP(&headers, "header", "H", nil, "a header 'Name: value' to send and sign (repeatable)")
	c.Flags().StringVarP(&data, "data", "d", "", "the request body, or @FILE to read it from a file")
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "show the signed request and the response headers on standard error (secrets masked)")
	c.Flags().BoolVarP(&include, "include", "i", false, "print the response's status and headers before its body")
	return c
}

// showRequest prints req's line and headers, the signature and the
// session token masked.
func showRequest(w io.Writer, req *http.Request) {
	fmt.Fprintf(w, "> %s %s\n", req.Method, req.URL.RequestURI())
	fmt.Fprintf(w, "> Host: %s\n", req.URL.Host)
	writeHeaders(w, req.Header, "> ")
	fmt.Fprintln(w, ">")
}

var signature = regexp.MustCompile(`Signature=[0-9a-f]+`)

func writeHeaders(w io.Writer, h http.Header, prefix string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			switch strings.ToLower(k) {
			case "authorization":
				v = signature.ReplaceAllString(v, "Signature=[masked]")
			case "x-amz-security-token":
				v = "[masked]"
			}
			fmt.Fprintf(w, "%s%s: %s\n", prefix, k, v)
		}
	}
}

func tokenCmd() *cobra.Command {
	var region, audience, serverID string
	c := &cobra.Command{
		Use:   "token gcp|vault",
		Short: "Print an AWS identity proof for GCP workload identity federation or Vault",
		Long: `Print a signed STS GetCallerIdentity request made with the AWS credential
chain, in the form another service takes as proof of the AWS identity:

  gcp    the subject token of GCP workload identity federation (give the
         pool provider as --audience); pass it to the STS token exchange.
  vault  the JSON body of HashiCorp Vault's AWS auth login (iam_http_request_
         method, iam_request_url, iam_request_body, iam_request_headers);
         --server-id sets X-Vault-AWS-IAM-Server-ID.

The output is a bearer proof for 15 minutes: treat it as a secret.`,
		Example: `  anyblob token gcp --audience //iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p/providers/aws
  anyblob token vault --server-id vault.example.com | vault write auth/aws/login role=dev -`,
		Args: nArgs(1, 1, "gcp or vault"),
		RunE: func(cmd *cobra.Command, args []string) error {
			chain, err := awsChain()
			if err != nil {
				return err
			}
			if region == "" {
				region = chain.Config().Region
			}
			if region == "" {
				region = "us-east-1"
			}
			out := cmd.OutOrStdout()
			switch args[0] {
			case "gcp":
				if audience == "" {
					return usagef("token gcp needs --audience (the workload identity pool provider)")
				}
				tok, err := awscred.GCPSubjectToken(cmd.Context(), chain, region, audience)
				if err != nil {
					return err
				}
				fmt.Fprintln(out, tok)
			case "vault":
				data, err := awscred.VaultLoginData(cmd.Context(), chain, serverID)
				if err != nil {
					return err
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(data)
			default:
				return usagef("unknown token kind %q (known: gcp, vault)", args[0])
			}
			return nil
		},
	}
	c.Flags().StringVar(&region, "region", "", "the STS region (default: the chain's, else us-east-1)")
	c.Flags().StringVar(&audience, "audience", "", "for gcp: the workload identity pool provider's full resource name")
	c.Flags().StringVar(&serverID, "server-id", "", "for vault: the X-Vault-AWS-IAM-Server-ID header")
	return c
}

// payloadHash is the hex SHA-256 SigV4 signs a body by.
func payloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}
