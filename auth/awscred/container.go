package awscred

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/anyblob/anyblob/auth/sigv4"
)

// allowedContainerHosts are the addresses a FULL_URI over http may use.
var allowedContainerHosts = []net.IP{
	net.ParseIP("169.254.170.2"), net.ParseIP("169.254.170.23"), net.ParseIP("fd00:ec2::23"),
}

func allowedIP(ip net.IP) bool {
	if ip.IsLoopback() {
		return true
	}
	for _, a := range allowedContainerHosts {
		if a.Equal(ip) {
			return true
		}
	}
	return false
}

// containerSource returns the ECS / EKS Pod Identity source, or nil when
// neither URI variable is set. For an http FULL_URI, every address the host
// resolves to must be loopback or one of the container hosts; that is
// checked here, before any request, and requests dial the checked address,
// with no proxy and no redirects.
func (r *resolver) containerSource() (source, error) {
	g := r.getenv
	var target *url.URL
	dialAddr := ""
	if rel := g("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		u, err := url.Parse("http://169.254.170.2" + rel)
		if err != nil {
			return nil, fmt.Errorf("aws: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a path")
		}
		target, dialAddr = u, "169.254.170.2:80"
	} else if full := g("AWS_CONTAINER_CREDENTIALS_FULL_URI"); full != "" {
		u, err := url.Parse(full)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("aws: AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL")
		}
		target = u
		if u.Scheme == "http" {
			ips, err := net.LookupIP(u.Hostname())
			if err != nil || len(ips) == 0 {
				return nil, fmt.Errorf("aws: container endpoint host %q does not resolve", u.Hostname())
			}
			for _, ip := range ips {
				if !allowedIP(ip) {
					return nil, fmt.Errorf("aws: container endpoint %s is http to %s, which is neither loopback nor a container credentials host", u.Redacted(), ip)
				}
			}
			port := u.Port()
			if port == "" {
				port = "80"
			}
			dialAddr = net.JoinHostPort(ips[0].String(), port)
		}
	} else {
		return nil, nil
	}
	tr := &http.Transport{Proxy: nil, ResponseHeaderTimeout: 5 * time.Second}
	if dialAddr != "" {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, dialAddr)
		}
	}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tokenFile, tokenVar := g("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"), g("AWS_CONTAINER_AUTHORIZATION_TOKEN")
	return func(ctx context.Context) (sigv4.Credentials, error) {
		token := tokenVar
		if tokenFile != "" {
			b, err := os.ReadFile(tokenFile) // read again at every refresh
			if err != nil {
				return sigv4.Credentials{}, fmt.Errorf("aws container endpoint: %w", err)
			}
			token = string(b)
		}
		if strings.ContainsAny(token, "\r\n") {
			return sigv4.Credentials{}, errors.New("aws container endpoint: the authorization token holds a CR or LF")
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
		if err != nil {
			return sigv4.Credentials{}, err
		}
		req.Header.Set("Accept", "application/json")
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return sigv4.Credentials{}, fmt.Errorf("aws container endpoint: %w", err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			// Only the error code: the body and its message are the
			// endpoint's to fill, and errors never quote a response body.
			var e struct{ Code string }
			_ = json.Unmarshal(data, &e)
			if !validCode(e.Code) {
				e.Code = "unknown"
			}
			return sigv4.Credentials{}, fmt.Errorf("aws container endpoint: status %d, code %s", resp.StatusCode, e.Code)
		}
		return parseJSONCreds(data, "container")
	}, nil
}

// parseJSONCreds reads the credentials JSON of the container endpoint and
// IMDS; errors never quote it.
func parseJSONCreds(data []byte, src string) (sigv4.Credentials, error) {
	var v struct {
		Code            string
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string
		Token           string
		Expiration      string
		AccountID       string `json:"AccountId"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return sigv4.Credentials{}, fmt.Errorf("aws %s: the answer is not credentials JSON", src)
	}
	if v.Code != "" && v.Code != "Success" {
		return sigv4.Credentials{}, fmt.Errorf("aws %s: code %q", src, v.Code)
	}
	if v.AccessKeyID == "" || v.SecretAccessKey == "" {
		return sigv4.Credentials{}, fmt.Errorf("aws %s: the answer holds no keys", src)
	}
	c := sigv4.Credentials{AccessKeyID: v.AccessKeyID, SecretAccessKey: v.SecretAccessKey, SessionToken: v.Token, AccountID: v.AccountID, Source: src}
	if v.Expiration != "" {
		exp, err := time.Parse(time.RFC3339, v.Expiration)
		if err != nil {
			return sigv4.Credentials{}, fmt.Errorf("aws %s: bad Expiration", src)
		}
		c.Expires = exp
	}
	return c, nil
}

// validCode reports whether s looks like an error code (a short word of
// letters, digits, '.', '_' and '-'), so that it may appear in an error.
func validCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
