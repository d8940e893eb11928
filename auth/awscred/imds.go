package awscred

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anyblob/anyblob/auth/sigv4"
)

// imdsSource is the EC2 instance metadata source: IMDSv2 (a token from
// PUT /latest/api/token, sent as X-aws-ec2-metadata-token), falling back
// to IMDSv1 when the token PUT answers 403, 404 or 405 or does not answer,
// unless AWS_EC2_METADATA_V1_DISABLED or the profile's
// ec2_metadata_v1_disabled says not to; a 400 is an error. The token is
// kept for its TTL; a 401 on a GET fetches a new one and tries again once.
// A GET that fails in transport or answers 5xx is sent up to 3 times.
// Expiry is capped at one hour from the fetch.
type imdsSource struct {
	endpoint   string // without a trailing '/'
	v1Disabled bool
	client     *http.Client
	now        func() time.Time

	// The token is kept for its TTL (less a minute) across refreshes. The
	// chain's cache runs one fetch at a time, but a source may be shared
	// (credential_source), so the token has its own lock.
	tokMu      sync.Mutex
	tok        string
	tokExpires time.Time

	last sigv4.Credentials // the last credentials handed out
}

// newIMDS returns the IMDS source of the resolved configuration.
func (r *resolver) newIMDS() *imdsSource {
	p := r.files.profiles[r.cfg.Profile]
	v1Disabled := strings.EqualFold(r.getenv("AWS_EC2_METADATA_V1_DISABLED"), "true") || (p != nil && strings.EqualFold(p["ec2_metadata_v1_disabled"], "true"))
	return newIMDSSource(imdsEndpoint(r.getenv, p), v1Disabled, r.now)
}

// newIMDSSource returns an IMDS source for endpoint, with the SDKs'
// timeouts, no proxy and no redirects.
func newIMDSSource(endpoint string, v1Disabled bool, now func() time.Time) *imdsSource {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 250 * time.Millisecond}).DialContext,
		ResponseHeaderTimeout: 500 * time.Millisecond,
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &imdsSource{endpoint: strings.TrimSuffix(endpoint, "/"), v1Disabled: v1Disabled, client: client, now: now}
}

// imdsEndpoint returns AWS_EC2_METADATA_SERVICE_ENDPOINT, else the
// profile's ec2_metadata_service_endpoint, else the address of the
// endpoint mode (environment, then profile): IPv4 unless it says IPv6.
func imdsEndpoint(getenv func(string) string, p map[string]string) string {
	if ep := firstNonEmpty(getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"), p["ec2_metadata_service_endpoint"]); ep != "" {
		return ep
	}
	if strings.EqualFold(firstNonEmpty(getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"), p["ec2_metadata_service_endpoint_mode"]), "IPv6") {
		return "http://[fd00:ec2::254]"
	}
	return "http://169.254.169.254"
}

// retrieve fetches the credentials. When a fetch fails while credentials
// were handed out before, the SDKs keep using those for 5 to 15 more
// minutes (IMDS outages are short; the keys usually still work): so do we.
func (s *imdsSource) retrieve(ctx context.Context) (sigv4.Credentials, error) {
	c, err := s.fetch(ctx)
	if err == nil {
		s.last = c
		return c, nil
	}
	if s.last.HasKeys() && ctx.Err() == nil {
		ext := s.last
		ext.Expires = s.now().Add(5*time.Minute + time.Duration(rand.Int64N(int64(10*time.Minute))))
		return ext, nil
	}
	return sigv4.Credentials{}, err
}

// fetch reads the credentials of the instance's first role, expiring at
// most an hour from now.
func (s *imdsSource) fetch(ctx context.Context) (sigv4.Credentials, error) {
	token, err := s.sessionToken(ctx)
	if err != nil {
		return sigv4.Credentials{}, err
	}
	role, err := s.role(ctx, &token)
	if err != nil {
		return sigv4.Credentials{}, err
	}
	data, err := s.get(ctx, "/latest/meta-data/iam/security-credentials/"+role, &token)
	if err != nil {
		return sigv4.Credentials{}, err
	}
	c, err := parseJSONCreds(data, "imds")
	if err != nil {
		return sigv4.Credentials{}, err
	}
	if limit := s.now().Add(time.Hour); c.Expires.IsZero() || c.Expires.After(limit) {
		c.Expires = limit
	}
	return c, nil
}

// sessionToken returns the IMDSv2 token, or "" to go on with IMDSv1 when
// the token is unavailable and IMDSv1 is allowed.
func (s *imdsSource) sessionToken(ctx context.Context) (string, error) {
	token, err := s.token(ctx, false)
	if err == nil {
		return token, nil
	}
	if !errors.Is(err, errFallback) {
		return "", err
	}
	if s.v1Disabled {
		return "", fmt.Errorf("aws imds: no IMDSv2 token (%v) and IMDSv1 is disabled", err)
	}
	return "", nil
}

// token returns the kept token while it is valid, unless fresh, else a new
// one from the token PUT.
func (s *imdsSource) token(ctx context.Context, fresh bool) (string, error) {
	s.tokMu.Lock()
	defer s.tokMu.Unlock()
	if !fresh && s.tok != "" && s.now().Before(s.tokExpires) {
		return s.tok, nil
	}
	t, err := imdsToken(ctx, s.client, s.endpoint)
	if err != nil {
		s.tok = ""
		return "", err
	}
	s.tok, s.tokExpires = t, s.now().Add(imdsTokenTTL-time.Minute)
	return t, nil
}

// role returns the first role the instance lists.
func (s *imdsSource) role(ctx context.Context, token *string) (string, error) {
	roles, err := s.get(ctx, "/latest/meta-data/iam/security-credentials/", token)
	if err != nil {
		return "", err
	}
	role := strings.TrimSpace(strings.SplitN(string(roles), "\n", 2)[0])
	if role == "" {
		return "", errors.New("aws imds: the instance has no IAM role")
	}
	return role, nil
}

// get returns the body of a GET of path, sent with *token when not empty.
// It sends the GET again after a transport error or a 5xx (up to
// imdsAttempts in all), and once after a 401, with a new token, which it
// puts in *token.
func (s *imdsSource) get(ctx context.Context, path string, token *string) ([]byte, error) {
	refreshed := false
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.endpoint+path, nil)
		if err != nil {
			return nil, err
		}
		if *token != "" {
			req.Header.Set("X-aws-ec2-metadata-token", *token)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			if ctx.Err() == nil && attempt < imdsAttempts {
				continue
			}
			return nil, fmt.Errorf("aws imds: %w", err)
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusUnauthorized && *token != "" && !refreshed:
			// The token expired: drop it, get a new one, try again.
			refreshed = true
			if *token, err = s.token(ctx, true); err != nil {
				return nil, err
			}
			attempt--
			continue
		case resp.StatusCode >= 500 && attempt < imdsAttempts:
			continue
		case resp.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("aws imds: GET %s: status %d", path, resp.StatusCode)
		}
		return data, nil
	}
}

const (
	// imdsTokenTTL is the TTL asked for the IMDSv2 token (the maximum).
	imdsTokenTTL = 21600 * time.Second
	// imdsAttempts bounds the GETs sent for one path (transport errors
	// and 5xx answers are tried again).
	imdsAttempts = 3
)

// errFallback marks token failures after which IMDSv1 may be tried.
var errFallback = errors.New("imds token unavailable")

func imdsToken(ctx context.Context, client *http.Client, endpoint string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, endpoint+"/latest/api/token", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(int(imdsTokenTTL/time.Second)))
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("%w: %v", errFallback, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK:
		return strings.TrimSpace(string(data)), nil
	case http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed:
		return "", fmt.Errorf("%w: status %d", errFallback, resp.StatusCode)
	}
	return "", fmt.Errorf("aws imds: token PUT answered %d", resp.StatusCode)
}
