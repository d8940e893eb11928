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

// imdsSource returns the EC2 instance metadata source: IMDSv2 (a token
// from PUT /latest/api/token, sent as X-aws-ec2-metadata-token), falling
// back to IMDSv1 when the token PUT answers 403, 404 or 405 or does not
// answer, unless AWS_EC2_METADATA_V1_DISABLED or the profile's
// ec2_metadata_v1_disabled says not to; a 400 is an error. The token is
// kept for its TTL; a 401 on a GET fetches a new one and tries again once.
// A GET that fails in transport or answers 5xx is sent up to 3 times.
// Expiry is capped at one hour from the fetch.
func (r *resolver) imdsSource() source {
	g := r.getenv
	endpoint := g("AWS_EC2_METADATA_SERVICE_ENDPOINT")
	p := r.files.profiles[r.cfg.Profile]
	if endpoint == "" && p != nil {
		endpoint = p["ec2_metadata_service_endpoint"]
	}
	if endpoint == "" {
		endpoint = "http://169.254.169.254"
		mode := g("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")
		if mode == "" && p != nil {
			mode = p["ec2_metadata_service_endpoint_mode"]
		}
		if strings.EqualFold(mode, "IPv6") {
			endpoint = "http://[fd00:ec2::254]"
		}
	}
	endpoint = strings.TrimSuffix(endpoint, "/")
	v1Disabled := strings.EqualFold(g("AWS_EC2_METADATA_V1_DISABLED"), "true") || (p != nil && strings.EqualFold(p["ec2_metadata_v1_disabled"], "true"))
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 250 * time.Millisecond}).DialContext,
		ResponseHeaderTimeout: 500 * time.Millisecond,
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	now := r.now
	var last sigv4.Credentials // the last credentials handed out
	// The token is kept for its TTL (less a minute) across refreshes. The
	// chain's cache runs one fetch at a time, but a source may be shared
	// (credential_source), so the token has its own lock.
	var tokMu sync.Mutex
	var tok string
	var tokExpires time.Time
	getToken := func(ctx context.Context, fresh bool) (string, error) {
		tokMu.Lock()
		defer tokMu.Unlock()
		if !fresh && tok != "" && now().Before(tokExpires) {
			return tok, nil
		}
		t, err := imdsToken(ctx, client, endpoint)
		if err != nil {
			tok = ""
			return "", err
		}
		tok, tokExpires = t, now().Add(imdsTokenTTL-time.Minute)
		return t, nil
	}
	fetch := func(ctx context.Context) (sigv4.Credentials, error) {
		token, err := getToken(ctx, false)
		if err != nil {
			if !errors.Is(err, errFallback) {
				return sigv4.Credentials{}, err
			}
			if v1Disabled {
				return sigv4.Credentials{}, fmt.Errorf("aws imds: no IMDSv2 token (%v) and IMDSv1 is disabled", err)
			}
			token = ""
		}
		get := func(path string) ([]byte, error) {
			refreshed := false
			for attempt := 1; ; attempt++ {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+path, nil)
				if err != nil {
					return nil, err
				}
				if token != "" {
					req.Header.Set("X-aws-ec2-metadata-token", token)
				}
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil && attempt < imdsAttempts {
						continue
					}
					return nil, fmt.Errorf("aws imds: %w", err)
				}
				data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
				switch {
				case resp.StatusCode == http.StatusUnauthorized && token != "" && !refreshed:
					// The token expired: drop it, get a new one, try again.
					refreshed = true
					if token, err = getToken(ctx, true); err != nil {
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
		roles, err := get("/latest/meta-data/iam/security-credentials/")
		if err != nil {
			return sigv4.Credentials{}, err
		}
		role := strings.TrimSpace(strings.SplitN(string(roles), "\n", 2)[0])
		if role == "" {
			return sigv4.Credentials{}, errors.New("aws imds: the instance has no IAM role")
		}
		data, err := get("/latest/meta-data/iam/security-credentials/" + role)
		if err != nil {
			return sigv4.Credentials{}, err
		}
		c, err := parseJSONCreds(data, "imds")
		if err != nil {
			return sigv4.Credentials{}, err
		}
		if limit := now().Add(time.Hour); c.Expires.IsZero() || c.Expires.After(limit) {
			c.Expires = limit
		}
		return c, nil
	}
	// When a refresh fails while credentials were handed out before, the
	// SDKs keep using those for 5 to 15 more minutes (IMDS outages are
	// short; the keys usually still work): so do we.
	return func(ctx context.Context) (sigv4.Credentials, error) {
		c, err := fetch(ctx)
		if err == nil {
			last = c
			return c, nil
		}
		if last.HasKeys() && ctx.Err() == nil {
			ext := last
			ext.Expires = now().Add(5*time.Minute + time.Duration(rand.Int64N(int64(10*time.Minute))))
			return ext, nil
		}
		return sigv4.Credentials{}, err
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
