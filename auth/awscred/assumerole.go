package awscred

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/sigv4"
)

// AssumeRoleOptions configures AssumeRole.
type AssumeRoleOptions struct {
	// RoleARN is the role to assume. Required.
	RoleARN string
	// SessionName names the session; "" means "anyblob-" and a timestamp.
	SessionName string
	// ExternalID is passed when set.
	ExternalID string
	// Duration is the session length; 0 means 15 minutes.
	Duration time.Duration
	// Region selects https://sts.REGION.amazonaws.com; Endpoint, when set,
	// replaces it. One of them is required.
	Region, Endpoint string
	// HTTPClient sends the call; nil means a client with a 30-second timeout.
	HTTPClient *http.Client
	// AllowHTTP permits an http:// Endpoint (a local emulator or fake);
	// without it such an endpoint is an error, since the answer carries
	// credentials.
	AllowHTTP bool
}

// RoleSource hands out temporary credentials of an assumed role, cached
// and refreshed before they expire. It satisfies sigv4.CredentialsSource.
type RoleSource struct {
	cache *auth.Cache[sigv4.Credentials]
}

// AssumeRole returns a source of the role's credentials, got with signed
// STS AssumeRole calls made with base's credentials. Errors: a missing
// RoleARN, neither Region nor Endpoint, an Endpoint that is not an http(s)
// URL, or an http one without AllowHTTP.
func AssumeRole(base sigv4.CredentialsSource, o AssumeRoleOptions) (*RoleSource, error) {
	if o.RoleARN == "" {
		return nil, fmt.Errorf("aws: AssumeRole needs a role ARN")
	}
	ep := o.Endpoint
	if ep == "" {
		if o.Region == "" {
			return nil, fmt.Errorf("aws: AssumeRole needs a region or an STS endpoint")
		}
		ep = "https://sts." + o.Region + ".amazonaws.com"
	}
	if err := checkEndpoint("STS", ep, o.AllowHTTP); err != nil {
		return nil, err
	}
	region := o.Region
	if region == "" {
		region = "us-east-1"
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	sts := &stsClient{endpoint: strings.TrimSuffix(ep, "/"), region: region, http: hc, now: time.Now}
	role := assumeRole{arn: o.RoleARN, sessionName: o.SessionName, externalID: o.ExternalID, duration: o.Duration}
	if role.sessionName == "" {
		role.sessionName = fmt.Sprintf("anyblob-%d", time.Now().Unix())
	}
	if role.duration == 0 {
		role.duration = 15 * time.Minute
	}
	return &RoleSource{cache: auth.NewCache(func(ctx context.Context) (sigv4.Credentials, time.Time, error) {
		creds, err := base.Retrieve(ctx)
		if err != nil {
			return sigv4.Credentials{}, time.Time{}, err
		}
		c, err := sts.assumeRole(ctx, creds, role)
		return c, c.Expires, err
	}, nil)}, nil
}

// Retrieve returns the role's credentials.
func (r *RoleSource) Retrieve(ctx context.Context) (sigv4.Credentials, error) {
	return r.cache.Get(ctx)
}

// Invalidate drops the cached credentials.
func (r *RoleSource) Invalidate() { r.cache.Invalidate() }
