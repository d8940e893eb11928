// Package awscred is the AWS credential chain, written in-house: it finds
// credentials the way the AWS SDKs do and explains what it found.
//
// As in the SDKs, the source is chosen once, from the configuration, in
// this order, and a chosen source that later fails does not fall through:
//
//  1. environment keys: AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY) with
//     AWS_SECRET_ACCESS_KEY (or AWS_SECRET_KEY), AWS_SESSION_TOKEN,
//     AWS_ACCOUNT_ID; only one of the pair set means no environment keys;
//  2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN (and
//     AWS_ROLE_SESSION_NAME), through an unsigned STS
//     AssumeRoleWithWebIdentity; the token file is read again at every
//     refresh;
//  3. the profile (AWS_PROFILE, AWS_DEFAULT_PROFILE or "default") of the
//     shared config and credentials files. Its credentials are the first
//     of: source_profile (another profile, recursively), credential_source
//     (Environment, Ec2InstanceMetadata, EcsContainer), static keys,
//     web_identity_token_file, IAM Identity Center (SSO), then
//     credential_process; with role_arn, they assume the role through
//     signed STS AssumeRole calls (innermost first; external_id,
//     role_session_name, duration_seconds, mfa_serial);
//  4. the container endpoint (ECS, EKS Pod Identity):
//     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with the
//     allowed-host rule checked before any request;
//  5. the EC2 instance metadata service, IMDSv2 with its token and the
//     IMDSv1 fallback rules of the SDKs.
//
// An AWS_PROFILE that names a missing profile is an error even when
// environment keys are set. Credentials are cached and refreshed (see
// auth.Cache). Chain.Report says which source was used and why the others
// were skipped. Secrets never appear in errors, and the chain never falls
// back to anonymous access.
//
// A profile's web_identity_token_file (with role_arn and
// role_session_name) is honoured too.
//
// LoadConfig resolves only the region and endpoints, for callers that need
// no credentials.
//
// # IAM Identity Center (SSO)
//
// A profile with sso_session NAME (whose [sso-session NAME] section holds
// sso_start_url and sso_region), or the legacy sso_start_url and
// sso_region in the profile itself, plus sso_account_id and sso_role_name,
// gets the role's credentials from the IAM Identity Center portal
// (GetRoleCredentials) with the access token that `aws sso login` cached
// in ~/.aws/sso/cache/SHA1.json (SHA1 of the session name, or of the
// legacy start URL). With the sso_session form, a token that has expired,
// or expires within five minutes, is refreshed with SSO OIDC CreateToken
// when the cache holds a refresh token and an unexpired client
// registration, and the cache file is replaced atomically (mode 0600),
// keeping its other fields. A missing cache, or an expired token that
// cannot be refreshed, fails Retrieve with an error matching
// ErrSSOLoginRequired that says to run `aws sso login --profile NAME`.
// The endpoints follow the same overrides as STS's, with service ids sso
// (AWS_ENDPOINT_URL_SSO, [services] key sso) and sso-oidc
// (AWS_ENDPOINT_URL_SSO_OIDC, key sso_oidc); by default
// https://portal.sso.REGION.amazonaws.com and
// https://oidc.REGION.amazonaws.com for the SSO region. An SSO profile
// may be the source_profile of a role profile.
//
// # MFA
//
// A role profile with mfa_serial sends SerialNumber and TokenCode on
// AssumeRole, the code got from Options.MFATokenCode; the role's session
// is cached for its duration, so the code is asked for when a session
// starts or is renewed (a few minutes before it ends), not at every
// Retrieve, even when the MFA role is an inner hop of a chain.
// Without MFATokenCode such a profile is an error from NewChain, before
// any request.
package awscred

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/internal/events"
)

// Options configures NewChain. nil means the zero value.
type Options struct {
	// Getenv reads the environment; nil means os.Getenv. It is the only
	// way the chain reads variables.
	Getenv func(string) string
	// HTTPClient sends STS calls; nil means a client with a 30-second
	// timeout. The container and IMDS sources use their own clients (no
	// proxy, no redirects, short timeouts).
	HTTPClient *http.Client
	// Now replaces time.Now (tests).
	Now func() time.Time
	// AllowHTTP lets STS, SSO and SSO OIDC calls go to an http://
	// endpoint (a local emulator or test fake). Without it an http STS endpoint is refused
	// before any request: a web identity call carries a bearer token and
	// every STS answer carries credentials. The container endpoint has its
	// own rule (http only to loopback and the container hosts) and IMDS is
	// http by design; neither depends on this.
	AllowHTTP bool
	// Profile, when set, is the profile to use, as if passed in code to an
	// AWS SDK: it beats AWS_PROFILE and skips the environment keys (which a
	// profile's credential_source Environment can still use).
	Profile string
	// Logger receives warnings (a shared file readable by group or
	// others); nil means none. Nothing secret is ever logged.
	Logger *slog.Logger
	// MFATokenCode returns the current code of the MFA device serial (the
	// profile's mfa_serial, an ARN or a hardware serial number), for a
	// role profile that sets mfa_serial: typically it asks the user. It
	// is called when the role's session is started or renewed, not at
	// every Retrieve: the session is cached for its duration
	// (duration_seconds). An error it returns fails that Retrieve,
	// wrapped. nil means a role profile with mfa_serial is an error from
	// NewChain, before any request.
	MFATokenCode func(ctx context.Context, serial string) (string, error)
}

// Config is what the chain resolved from the environment and files.
type Config struct {
	// Profile is the profile name in use.
	Profile string
	// Region is AWS_REGION, AWS_DEFAULT_REGION or the profile's region.
	Region string
	// S3Endpoint and STSEndpoint are the configured endpoint overrides,
	// first wins: AWS_ENDPOINT_URL_S3 / _STS, the profile's [services]
	// section (s3 / sts endpoint_url), AWS_ENDPOINT_URL, the profile's
	// endpoint_url; none when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true.
	// "" means the default endpoint.
	S3Endpoint, STSEndpoint string
}

// Chain is the AWS credential chain. It satisfies sigv4.CredentialsSource.
// Create it with NewChain; a Chain is safe for concurrent use.
type Chain struct {
	cfg   Config
	cache *auth.Cache[sigv4.Credentials]

	mu      sync.Mutex
	report  auth.Report // the decision; its last attempt is the source used
	lastErr error       // the chosen source's last failure, nil after a success
}

// source fetches credentials and says when they expire.
type source func(ctx context.Context) (sigv4.Credentials, error)

// newResolver reads the options' defaults.
func newResolver(opts *Options) *resolver {
	if opts == nil {
		opts = &Options{}
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &resolver{getenv: getenv, now: now, http: hc, codeProfile: opts.Profile, allowHTTP: opts.AllowHTTP, logger: opts.Logger, mfaTokenCode: opts.MFATokenCode}
}

// LoadConfig resolves the profile, region and S3 / STS endpoints the way
// NewChain does, without choosing a credential source: for callers that
// need the region and endpoint even when no credentials are wanted (a
// public bucket). It reads the environment through opts.Getenv (nil opts:
// os.Getenv) and the shared files under HOME (or AWS_CONFIG_FILE /
// AWS_SHARED_CREDENTIALS_FILE). Errors: an AWS_PROFILE (or
// Options.Profile) naming a profile that is in neither file, or a shared
// file that cannot be read or parsed. A Config with an empty Region is not
// an error; the caller decides whether it needs one.
func LoadConfig(opts *Options) (Config, error) {
	r := newResolver(opts)
	if err := r.load(); err != nil {
		return Config{}, err
	}
	return r.cfg, nil
}

// NewChain resolves the configuration and picks the source, once, as the
// SDKs do. Errors: a missing AWS_PROFILE profile, a broken shared file, a
// profile that sets conflicting sources or a missing source_profile, web
// identity without AWS_ROLE_ARN or without a region or STS endpoint, an
// SSO profile with settings missing (or no HOME for its token cache), a
// role profile with mfa_serial and no Options.MFATokenCode, an STS or SSO
// endpoint over http without AllowHTTP, a container endpoint that breaks
// the allowed-host rule, or
// *auth.NoCredentialsError when no source is configured (IMDS disabled and
// nothing else set). None of these sends a request.
func NewChain(opts *Options) (*Chain, error) {
	r := newResolver(opts)
	if err := r.load(); err != nil {
		return nil, err
	}
	src, err := r.pick()
	if err != nil {
		return nil, err
	}
	c := &Chain{cfg: r.cfg, report: r.report}
	var fetched atomic.Bool
	c.cache = auth.NewCache(func(ctx context.Context) (sigv4.Credentials, time.Time, error) {
		creds, err := src(ctx)
		c.mu.Lock()
		c.lastErr = err
		c.mu.Unlock()
		if first := err == nil && !fetched.Swap(true); err == nil && events.Listening(ctx) {
			if first {
				events.Notify(ctx, events.Event{Kind: events.CredentialsSource, Detail: c.report.String()})
			} else {
				from := "the chosen source"
				if a, ok := c.report.Used(); ok {
					from = a.Source
				}
				events.Notify(ctx, events.Event{Kind: events.CredentialsRefresh, Detail: "aws: fresh credentials from " + from})
			}
		}
		return creds, creds.Expires, err
	}, r.now)
	return c, nil
}

// Retrieve returns credentials from the chosen source, cached until five
// minutes (plus jitter) before they expire. When the source fails, the
// error is an *auth.NoCredentialsError whose report lists every source,
// with the chosen one marked failed and its error (which errors.Is and
// errors.As reach through Unwrap); when ctx ends first, ctx's error. The
// chain never falls through to another source nor to anonymous access.
func (c *Chain) Retrieve(ctx context.Context) (sigv4.Credentials, error) {
	creds, err := c.cache.Get(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return sigv4.Credentials{}, ctx.Err()
		}
		return sigv4.Credentials{}, &auth.NoCredentialsError{Report: c.failed(err)}
	}
	return creds, nil
}

// failed returns the report with the used source marked as failed with err.
func (c *Chain) failed(err error) auth.Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	rep := auth.Report{Chain: c.report.Chain, Attempts: append([]auth.Attempt(nil), c.report.Attempts...)}
	for i, a := range rep.Attempts {
		if a.Outcome == auth.Used {
			rep.Attempts[i].Outcome, rep.Attempts[i].Err = auth.Failed, err
		}
	}
	return rep
}

// Invalidate drops the cached credentials (after a server refused them).
func (c *Chain) Invalidate() { c.cache.Invalidate() }

// Config returns the resolved region, profile and endpoints.
func (c *Chain) Config() Config { return c.cfg }

// Report says which source the chain chose and why it passed over the
// ones before it. When the chosen source's last fetch failed, that source
// is reported as failed, with the error.
func (c *Chain) Report() auth.Report {
	c.mu.Lock()
	err := c.lastErr
	c.mu.Unlock()
	if err != nil {
		return c.failed(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return auth.Report{Chain: c.report.Chain, Attempts: append([]auth.Attempt(nil), c.report.Attempts...)}
}

// resolver holds the state of one NewChain.
type resolver struct {
	getenv func(string) string
	now    func() time.Time
	http   *http.Client
	files  *sharedFiles
	cfg    Config
	report auth.Report
	// profileSet is true when Options.Profile, AWS_PROFILE or
	// AWS_DEFAULT_PROFILE named the profile.
	profileSet  bool
	codeProfile string
	allowHTTP   bool
	logger      *slog.Logger
	// ssoEndpoint and oidcEndpoint are the configured IAM Identity
	// Center portal and SSO OIDC endpoints (service ids sso and
	// sso-oidc), resolved as Config's; "" means the default.
	ssoEndpoint, oidcEndpoint string
	mfaTokenCode              func(ctx context.Context, serial string) (string, error)
}

func (r *resolver) load() error {
	r.report.Chain = "aws"
	cp, kp := defaultPaths(r.getenv)
	files, err := loadSharedFiles(cp, kp, r.logger)
	if err != nil {
		return fmt.Errorf("aws shared files: %w", err)
	}
	r.files = files
	r.cfg.Profile = firstNonEmpty(r.codeProfile, r.getenv("AWS_PROFILE"), r.getenv("AWS_DEFAULT_PROFILE"))
	r.profileSet = r.cfg.Profile != ""
	if !r.profileSet {
		r.cfg.Profile = "default"
	}
	p := r.files.profiles[r.cfg.Profile]
	if r.profileSet && p == nil {
		if cp == "" && kp == "" {
			return fmt.Errorf("aws: profile %q: no shared files to look in (HOME is not set)", r.cfg.Profile)
		}
		return fmt.Errorf("aws: profile %q is in neither %s nor %s", r.cfg.Profile, cp, kp)
	}
	r.cfg.Region = firstNonEmpty(r.getenv("AWS_REGION"), r.getenv("AWS_DEFAULT_REGION"), p["region"])
	if !strings.EqualFold(r.getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		svc := r.files.services[p["services"]]
		// envName is the service id upper-cased, with '_' for ' ' and
		// '-'; key is the [services] key, lower-cased with '_'.
		endpoint := func(envName, key string) string {
			return firstNonEmpty(r.getenv("AWS_ENDPOINT_URL_"+envName), svc[key+".endpoint_url"], r.getenv("AWS_ENDPOINT_URL"), p["endpoint_url"])
		}
		r.cfg.S3Endpoint = endpoint("S3", "s3")
		r.cfg.STSEndpoint = endpoint("STS", "sts")
		r.ssoEndpoint = endpoint("SSO", "sso")
		r.oidcEndpoint = endpoint("SSO_OIDC", "sso_oidc")
	}
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (r *resolver) skip(name, why string) {
	r.report.Add(auth.Attempt{Source: name, Outcome: auth.Skipped, Reason: why})
}

func (r *resolver) use(name, what string) {
	r.report.Add(auth.Attempt{Source: name, Outcome: auth.Used, Reason: what})
}

// sts returns an STS client for the resolved region and endpoint.
func (r *resolver) sts() (*stsClient, error) {
	ep := r.cfg.STSEndpoint
	if ep == "" {
		if r.cfg.Region == "" {
			return nil, errors.New("aws: missing region for STS: set AWS_REGION or the profile's region")
		}
		ep = "https://sts." + r.cfg.Region + ".amazonaws.com"
	}
	if err := checkEndpoint("STS", ep, r.allowHTTP); err != nil {
		return nil, err
	}
	region := r.cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	return &stsClient{endpoint: strings.TrimSuffix(ep, "/"), region: region, http: r.http, now: r.now}, nil
}

// checkEndpoint refuses an endpoint of service (STS, SSO, SSO OIDC) that
// is not an absolute http(s) URL, and an http one unless allowHTTP: every
// such call carries a token or a secret, or gets credentials back.
func checkEndpoint(service, ep string, allowHTTP bool) error {
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("aws: %s endpoint %q is not an http(s) URL", service, ep)
	}
	if u.Scheme == "http" && !allowHTTP {
		return fmt.Errorf("aws: %s endpoint %s is http: tokens and credentials would travel in the clear (set AllowHTTP for a local emulator)", service, u.Redacted())
	}
	return nil
}

// pick chooses the source, recording the choice in the report.
func (r *resolver) pick() (source, error) {
	if src := r.pickEnv(); src != nil {
		return src, nil
	}
	for _, pick := range []func() (source, error){r.pickWebIdentity, r.pickProfile, r.pickContainer} {
		if src, err := pick(); err != nil || src != nil {
			return src, err
		}
	}
	if strings.EqualFold(r.getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		r.skip("imds", "disabled by AWS_EC2_METADATA_DISABLED")
		return nil, &auth.NoCredentialsError{Report: r.report}
	}
	r.use("imds", "EC2 instance metadata")
	return r.newIMDS().retrieve, nil
}

// pickEnv returns the environment keys' source, or nil.
func (r *resolver) pickEnv() source {
	g := r.getenv
	id := firstNonEmpty(g("AWS_ACCESS_KEY_ID"), g("AWS_ACCESS_KEY"))
	secret := firstNonEmpty(g("AWS_SECRET_ACCESS_KEY"), g("AWS_SECRET_KEY"))
	switch {
	case r.codeProfile != "":
		r.skip("env", "a profile was given in code")
	case id != "" && secret != "":
		// Env keys win over AWS_PROFILE, once that profile exists
		// (checked in load).
		creds := sigv4.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: g("AWS_SESSION_TOKEN"), AccountID: g("AWS_ACCOUNT_ID"), Source: "env"}
		r.use("env", "static keys")
		return func(context.Context) (sigv4.Credentials, error) { return creds, nil }
	case id != "" || secret != "":
		r.skip("env", "only one of the access key ID and the secret key is set")
	default:
		r.skip("env", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
	}
	return nil
}

// pickWebIdentity returns the web identity source of the environment, or
// nil.
func (r *resolver) pickWebIdentity() (source, error) {
	tokenFile := r.getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
	if tokenFile == "" {
		r.skip("web identity", "AWS_WEB_IDENTITY_TOKEN_FILE is not set")
		return nil, nil
	}
	arn := r.getenv("AWS_ROLE_ARN")
	if arn == "" {
		return nil, errors.New("aws: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
	}
	src, err := r.webIdentitySource(tokenFile, arn, r.getenv("AWS_ROLE_SESSION_NAME"))
	if err != nil {
		return nil, err
	}
	r.use("web identity", arn)
	return src, nil
}

// pickProfile returns the source of the profile, or nil when it is in no
// shared file or names no credentials.
func (r *resolver) pickProfile() (source, error) {
	name := r.cfg.Profile
	if r.files.profiles[name] == nil {
		r.skip("profile "+name, "not in the shared files")
		return nil, nil
	}
	src, what, err := newProfileResolver(r).source(name)
	if err != nil {
		return nil, err
	}
	if src == nil {
		r.skip("profile "+name, "it names no credentials")
		return nil, nil
	}
	r.use("profile "+name, what)
	return src, nil
}

// pickContainer returns the container endpoint's source, or nil.
func (r *resolver) pickContainer() (source, error) {
	cs, err := r.newContainer()
	if err != nil {
		return nil, err
	}
	if cs == nil {
		r.skip("container", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set")
		return nil, nil
	}
	r.use("container", "ECS / EKS Pod Identity endpoint")
	return cs.retrieve, nil
}

// webIdentitySource exchanges the token in tokenFile for the role's
// credentials with an unsigned STS AssumeRoleWithWebIdentity. The file is
// read again at every fetch, and once more when STS says
// InvalidIdentityToken (the token may have been rotated under us).
func (r *resolver) webIdentitySource(tokenFile, arn, session string) (source, error) {
	sts, err := r.sts()
	if err != nil {
		return nil, err
	}
	if session == "" {
		session = fmt.Sprintf("anyblob-%d", r.now().UnixNano())
	}
	return func(ctx context.Context) (sigv4.Credentials, error) {
		for attempt := 0; ; attempt++ {
			tok, err := os.ReadFile(tokenFile)
			if err != nil {
				return sigv4.Credentials{}, fmt.Errorf("aws web identity: %w", err)
			}
			c, err := sts.assumeRoleWithWebIdentity(ctx, arn, session, string(tok))
			var se *stsError
			if errors.As(err, &se) && se.Code == "InvalidIdentityToken" && attempt < 2 {
				continue
			}
			return c, err
		}
	}, nil
}
