package gcpcred

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2/google"
	"golang.org/x/oauth2/google/externalaccount"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/awscred"
	"github.com/anyblob/anyblob/auth/sigv4"
)

// AWSSupplier gives workload identity federation from AWS (an
// external_account credential whose credential_source is AWS) its AWS
// credentials and region from anyblob's AWS chain (auth/awscred), instead
// of the oauth2 library's own lookup. That lookup reads only
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION
// and AWS_DEFAULT_REGION, else the EC2 metadata URLs written in the file;
// with the chain every AWS source works: profiles and role chains, web
// identity (EKS IRSA), credential_process, the ECS / EKS Pod Identity
// container endpoint and IMDSv2. The URLs of the file's credential_source
// (url, region_url, imdsv2_session_token_url, regional_cred_verification_url)
// are then not used: the proof is a GetCallerIdentity request to
// https://sts.REGION.amazonaws.com, signed by the oauth2 library with the
// keys the supplier hands it.
//
// Set it as Options.AWS for Find. It implements
// externalaccount.AwsSecurityCredentialsSupplier, so it also serves an
// externalaccount.Config built in code. The zero value is ready to use: it
// builds an awscred chain with the default options on first use. An
// AWSSupplier is safe for concurrent use; do not copy it after first use.
type AWSSupplier struct {
	// Credentials give the AWS keys; nil means an awscred chain built,
	// once, from Chain.
	Credentials sigv4.CredentialsSource
	// Chain configures the chain built when Credentials is nil; nil means
	// awscred's defaults (Find passes on its Options.Getenv).
	Chain *awscred.Options
	// Region is the region the proof is signed for and sent to; "" means
	// the region the chain resolved (AWS_REGION, AWS_DEFAULT_REGION, the
	// profile's region). Unlike the oauth2 library, the supplier does not
	// ask the EC2 metadata service for the region.
	Region string

	once   sync.Once
	creds  sigv4.CredentialsSource
	region string
	err    error
}

var _ externalaccount.AwsSecurityCredentialsSupplier = (*AWSSupplier)(nil)

// errNoRegion says where the region of an AWS proof comes from.
var errNoRegion = errors.New("gcpcred: no AWS region for workload identity federation: set AWS_REGION, AWS_DEFAULT_REGION, the profile's region or AWSSupplier.Region")

// resolve builds the chain, once; getenv is the chain's environment when
// s.Chain does not say (nil: os.Getenv).
func (s *AWSSupplier) resolve(getenv func(string) string) error {
	s.once.Do(func() {
		s.creds, s.region = s.Credentials, s.Region
		if s.creds == nil {
			opts := awscred.Options{Getenv: getenv}
			if s.Chain != nil {
				opts = *s.Chain
			}
			chain, err := awscred.NewChain(&opts)
			if err != nil {
				s.err = fmt.Errorf("gcpcred: AWS chain for workload identity federation: %w", err)
				return
			}
			s.creds = chain
		}
		if c, ok := s.creds.(interface{ Config() awscred.Config }); ok && s.region == "" {
			s.region = c.Config().Region
		}
		if s.region == "" {
			s.err = errNoRegion
		}
	})
	return s.err
}

// AwsRegion returns Region or the chain's region. It is the oauth2
// library's hook; the options are not used.
func (s *AWSSupplier) AwsRegion(context.Context, externalaccount.SupplierOptions) (string, error) {
	if err := s.resolve(nil); err != nil {
		return "", err
	}
	return s.region, nil
}

// AwsSecurityCredentials returns the keys of Credentials or of the chain
// (which caches and refreshes them). It is the oauth2 library's hook; the
// options are not used. Errors name the source, never a secret.
func (s *AWSSupplier) AwsSecurityCredentials(ctx context.Context, _ externalaccount.SupplierOptions) (*externalaccount.AwsSecurityCredentials, error) {
	if err := s.resolve(nil); err != nil {
		return nil, err
	}
	c, err := s.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("gcpcred: AWS credentials for workload identity federation: %w", err)
	}
	return &externalaccount.AwsSecurityCredentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
}

// describe names where the supplier's keys come from, for the report.
func (s *AWSSupplier) describe() string {
	type reporter interface{ Report() auth.Report }
	if r, ok := s.creds.(reporter); ok {
		if used, ok := r.Report().Used(); ok {
			return "the AWS chain, " + used.Source
		}
		return "the AWS chain"
	}
	return "AWSSupplier.Credentials"
}

// fileInfo is what gcpcred reads of a credentials file itself: the type,
// the fields an external_account with an AWS source needs, and the fields
// that name (for the report) where the credentials come from. The secrets
// (private_key, refresh_token) are left to the oauth2 library.
type fileInfo struct {
	Type                           string `json:"type"`
	ClientEmail                    string `json:"client_email"`
	Audience                       string `json:"audience"`
	SubjectTokenType               string `json:"subject_token_type"`
	TokenURL                       string `json:"token_url"`
	TokenInfoURL                   string `json:"token_info_url"`
	ServiceAccountImpersonationURL string `json:"service_account_impersonation_url"`
	ServiceAccountImpersonation    struct {
		TokenLifetimeSeconds int `json:"token_lifetime_seconds"`
	} `json:"service_account_impersonation"`
	ClientID                 string `json:"client_id"`
	ClientSecret             string `json:"client_secret"`
	QuotaProjectID           string `json:"quota_project_id"`
	WorkforcePoolUserProject string `json:"workforce_pool_user_project"`
	UniverseDomain           string `json:"universe_domain"`
	CredentialSource         struct {
		EnvironmentID string          `json:"environment_id"`
		File          string          `json:"file"`
		URL           string          `json:"url"`
		Executable    json.RawMessage `json:"executable"`
	} `json:"credential_source"`
	SourceCredentials *struct {
		Type string `json:"type"`
	} `json:"source_credentials"`
}

// awsSourced reports whether f is an external_account with an AWS
// credential_source (environment_id "aws1", "aws2", ...).
func (f *fileInfo) awsSourced() bool {
	return f.Type == string(google.ExternalAccount) && strings.HasPrefix(f.CredentialSource.EnvironmentID, "aws")
}

// describe says, for the report, what f holds and where its credentials
// come from: the type, the account impersonated, the source credentials or
// subject token. Nothing secret: a URL shows only its host.
func (f *fileInfo) describe(aws *AWSSupplier) string {
	parts := []string{f.Type}
	switch f.Type {
	case string(google.ServiceAccount):
		if f.ClientEmail != "" {
			parts = append(parts, f.ClientEmail)
		}
	case string(google.ImpersonatedServiceAccount):
		if f.SourceCredentials != nil {
			parts = append(parts, "source credentials "+f.SourceCredentials.Type)
		}
	case string(google.ExternalAccount):
		cs := f.CredentialSource
		switch {
		case f.awsSourced() && aws != nil:
			parts = append(parts, "AWS keys and region from "+aws.describe())
		case f.awsSourced():
			parts = append(parts, "AWS keys and region from the oauth2 library (environment, else EC2 metadata)")
		case cs.File != "":
			parts = append(parts, "subject token from file "+cs.File)
		case cs.URL != "":
			host := "an unparsable URL"
			if u, err := url.Parse(cs.URL); err == nil {
				host = u.Host
			}
			parts = append(parts, "subject token from URL on "+host)
		case len(cs.Executable) > 0:
			parts = append(parts, "subject token from an executable")
		}
	}
	if email := impersonated(f.ServiceAccountImpersonationURL); email != "" {
		parts = append(parts, "impersonating "+email)
	}
	return strings.Join(parts, ", ")
}

// impersonated returns the service account a
// .../serviceAccounts/EMAIL:generateAccessToken URL names, or "".
func impersonated(u string) string {
	start, end := strings.LastIndex(u, "/"), strings.LastIndex(u, ":")
	if start < 0 || end <= start {
		return ""
	}
	email, err := url.PathUnescape(u[start+1 : end])
	if err != nil {
		return ""
	}
	return email
}

// awsExternalAccount builds the credentials of an external_account file f
// (the raw JSON data) whose AWS keys and region come from sup.
func awsExternalAccount(ctx context.Context, f *fileInfo, data []byte, scopes []string, sup *AWSSupplier, getenv func(string) string) (*google.Credentials, error) {
	if v := f.CredentialSource.EnvironmentID; v != "aws1" {
		return nil, fmt.Errorf("credential_source environment_id %q is not supported (aws1 is)", v)
	}
	if err := sup.resolve(getenv); err != nil {
		return nil, err
	}
	ts, err := externalaccount.NewTokenSource(ctx, externalaccount.Config{
		Audience:                       f.Audience,
		SubjectTokenType:               f.SubjectTokenType,
		TokenURL:                       f.TokenURL,
		TokenInfoURL:                   f.TokenInfoURL,
		ServiceAccountImpersonationURL: f.ServiceAccountImpersonationURL,
		ServiceAccountImpersonationLifetimeSeconds: f.ServiceAccountImpersonation.TokenLifetimeSeconds,
		ClientID:                       f.ClientID,
		ClientSecret:                   f.ClientSecret,
		QuotaProjectID:                 f.QuotaProjectID,
		Scopes:                         scopes,
		WorkforcePoolUserProject:       f.WorkforcePoolUserProject,
		UniverseDomain:                 f.UniverseDomain,
		AwsSecurityCredentialsSupplier: sup,
	})
	if err != nil {
		return nil, err
	}
	creds := &google.Credentials{TokenSource: ts, JSON: data}
	if ud := f.UniverseDomain; ud != "" {
		creds.UniverseDomainProvider = func() (string, error) { return ud, nil }
	}
	return creds, nil
}
