// Package gcpcred finds Google Cloud credentials the way Application
// Default Credentials do, in their standard order, and reports what it
// found:
//
//  1. the file GOOGLE_APPLICATION_CREDENTIALS names;
//  2. gcloud's well-known file, application_default_credentials.json in
//     CLOUDSDK_CONFIG or ~/.config/gcloud (%APPDATA%\gcloud on Windows);
//  3. the metadata server of GCE, GKE, Cloud Run and the like
//     (GCE_METADATA_HOST overrides its address).
//
// A file may hold a service-account key, an authorized user (gcloud auth
// application-default login), an impersonated service account or an
// external account (workload identity federation, AWS included); its
// "type" field says which, and any other type is refused. Parsing and
// token exchange are golang.org/x/oauth2/google's. With Options.AWS, an
// external_account file whose credential_source is AWS takes its AWS keys
// and region from anyblob's AWS chain (see AWSSupplier) rather than from
// the oauth2 library's narrower lookup.
//
// The report's line for the file says what it holds and where its
// credentials come from: the account a file impersonates, the type of an
// impersonated account's source credentials, the subject token source of
// an external account (file, URL host, executable, AWS and which AWS
// source). It never holds a secret.
//
// As in ADC, a GOOGLE_APPLICATION_CREDENTIALS that names a bad file is an
// error, not a reason to try the next source. The chain never falls back to
// anonymous access: when no source gives credentials, Find returns an
// *auth.NoCredentialsError whose message lists every source and why it was
// passed over.
package gcpcred

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"cloud.google.com/go/compute/metadata"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/internal/events"
)

// DefaultScope is the scope asked for when Options.Scopes is empty.
const DefaultScope = "https://www.googleapis.com/auth/cloud-platform"

// Options configures Find. nil means the zero value: every source, the
// default scope, the process environment.
type Options struct {
	// Scopes are the OAuth2 scopes of the token; empty means DefaultScope.
	Scopes []string
	// Getenv reads the environment; nil means os.Getenv. The metadata
	// client reads GCE_METADATA_HOST from the process environment itself.
	Getenv func(string) string
	// DisableMetadata skips the metadata server.
	DisableMetadata bool
	// AWS, when set, supplies the AWS keys and region of external_account
	// files whose credential_source is AWS (workload identity federation
	// from AWS), from anyblob's AWS chain; &AWSSupplier{} is the chain
	// with its defaults and Getenv. nil leaves them to the oauth2
	// library (AWS_* environment variables, else the EC2 metadata URLs in
	// the file). Find resolves the supplier (builds the chain, finds the
	// region) when such a file is found, so a broken AWS setup fails Find.
	AWS *AWSSupplier
}

// allowed are the credential file types Find accepts.
var allowed = map[string]google.CredentialsType{
	string(google.ServiceAccount):                google.ServiceAccount,
	string(google.AuthorizedUser):                google.AuthorizedUser,
	string(google.ImpersonatedServiceAccount):    google.ImpersonatedServiceAccount,
	string(google.ExternalAccount):               google.ExternalAccount,
	string(google.ExternalAccountAuthorizedUser): google.ExternalAccountAuthorizedUser,
}

// Find returns the first credentials the sources give, and the report of
// every source it considered. Errors: a bad GOOGLE_APPLICATION_CREDENTIALS
// or well-known file (the error names the file and the problem, never its
// secrets), or *auth.NoCredentialsError when no source applies.
//
// When ctx has listeners (blob.WithEvents), the credentials found are told
// to them as a blob.EventCredentialsSource event whose detail is the
// report: a bucket opened with such a context logs the choice through
// blob.LogTo.
func Find(ctx context.Context, opts *Options) (*google.Credentials, auth.Report, error) {
	creds, rep, err := find(ctx, opts)
	if err == nil {
		events.Notify(ctx, events.Event{Kind: events.CredentialsSource, Detail: rep.String()})
	}
	return creds, rep, err
}

func find(ctx context.Context, opts *Options) (*google.Credentials, auth.Report, error) {
	if opts == nil {
		opts = &Options{}
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	scopes := opts.Scopes
	if len(scopes) == 0 {
		scopes = []string{DefaultScope}
	}
	rep := auth.Report{Chain: "gcp"}

	if path := getenv("GOOGLE_APPLICATION_CREDENTIALS"); path == "" {
		rep.Add(auth.Attempt{Source: "GOOGLE_APPLICATION_CREDENTIALS", Outcome: auth.Skipped, Reason: "not set"})
	} else {
		creds, kind, err := fromFile(ctx, path, scopes, opts.AWS, getenv)
		if err != nil {
			rep.Add(auth.Attempt{Source: "GOOGLE_APPLICATION_CREDENTIALS", Outcome: auth.Failed, Err: err})
			return nil, rep, err
		}
		rep.Add(auth.Attempt{Source: "GOOGLE_APPLICATION_CREDENTIALS", Outcome: auth.Used, Reason: kind + " from " + path})
		return creds, rep, nil
	}

	wk := wellKnownFile(getenv)
	if _, err := os.Stat(wk); errors.Is(err, fs.ErrNotExist) {
		rep.Add(auth.Attempt{Source: "gcloud well-known file", Outcome: auth.Skipped, Reason: wk + " does not exist"})
	} else {
		creds, kind, err := fromFile(ctx, wk, scopes, opts.AWS, getenv)
		if err != nil {
			rep.Add(auth.Attempt{Source: "gcloud well-known file", Outcome: auth.Failed, Err: err})
			return nil, rep, err
		}
		rep.Add(auth.Attempt{Source: "gcloud well-known file", Outcome: auth.Used, Reason: kind + " from " + wk})
		return creds, rep, nil
	}

	switch {
	case opts.DisableMetadata:
		rep.Add(auth.Attempt{Source: "metadata server", Outcome: auth.Skipped, Reason: "disabled"})
	case !metadata.OnGCEWithContext(ctx):
		rep.Add(auth.Attempt{Source: "metadata server", Outcome: auth.Skipped, Reason: "not running on Google Cloud (no metadata server answered)"})
	default:
		ts := google.ComputeTokenSource("", scopes...)
		if _, err := ts.Token(); err != nil {
			rep.Add(auth.Attempt{Source: "metadata server", Outcome: auth.Failed, Err: err})
			break
		}
		rep.Add(auth.Attempt{Source: "metadata server", Outcome: auth.Used, Reason: "default service account"})
		return &google.Credentials{TokenSource: oauth2.ReuseTokenSource(nil, ts)}, rep, nil
	}
	return nil, rep, &auth.NoCredentialsError{Report: rep}
}

// fromFile reads a credentials file of an allowed type. It returns the
// credentials and the description of the file for the report.
func fromFile(ctx context.Context, path string, scopes []string, aws *AWSSupplier, getenv func(string) string) (*google.Credentials, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("reading credentials file: %w", err)
	}
	var f fileInfo
	if err := json.Unmarshal(data, &f); err != nil {
		// The message names the field, never a value.
		if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) {
			return nil, "", fmt.Errorf("credentials file %s: field %s has the wrong type", path, te.Field)
		}
		return nil, "", fmt.Errorf("credentials file %s is not JSON", path)
	}
	t, ok := allowed[f.Type]
	if !ok {
		return nil, "", fmt.Errorf("credentials file %s has type %q, not one of service_account, authorized_user, impersonated_service_account, external_account, external_account_authorized_user", path, f.Type)
	}
	var creds *google.Credentials
	if aws != nil && f.awsSourced() {
		creds, err = awsExternalAccount(ctx, &f, data, scopes, aws, getenv)
	} else {
		creds, err = google.CredentialsFromJSONWithType(ctx, data, t, scopes...)
	}
	if err != nil {
		return nil, "", fmt.Errorf("credentials file %s (%s): %v", path, f.Type, err)
	}
	return creds, f.describe(aws), nil
}

func wellKnownFile(getenv func(string) string) string {
	const name = "application_default_credentials.json"
	if dir := getenv("CLOUDSDK_CONFIG"); dir != "" {
		return filepath.Join(dir, name)
	}
	if runtime.GOOS == "windows" {
		return filepath.Join(getenv("APPDATA"), "gcloud", name)
	}
	return filepath.Join(getenv("HOME"), ".config", "gcloud", name)
}
