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

// containerSource is the ECS / EKS Pod Identity source: a GET of the
// container endpoint, with the authorization token (from
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, read again at every fetch, else
// AWS_CONTAINER_AUTHORIZATION_TOKEN) as it is given.
type containerSource struct {
	target    *url.URL
	client    *http.Client
	tokenFile string
	tokenVar  string
}

// newContainer returns the container source, or nil when neither URI
// variable is set. For an http FULL_URI, every address the host resolves
// to must be loopback or one of the container hosts; that is checked
// here, before any request, and requests dial the checked address, with
// no proxy and no redirects.
func (r *resolver) newContainer() (*containerSource, error) {
	target, dialAddr, err := containerTarget(r.getenv)
	if err != nil || target == nil {
		return nil, err
	}
	return &containerSource{
		target:    target,
		client:    containerClient(dialAddr),
		tokenFile: r.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
		tokenVar:  r.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
	}, nil
}

// ecsEndpoint is where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI points: the
// ECS agent's fixed address, which no variable overrides (tests of this
// package point it at a loopback fake).
var ecsEndpoint = struct{ base, dial string }{"http://169.254.170.2", "169.254.170.2:80"}

// containerTarget returns the URL of the container endpoint (nil when
// neither URI variable is set) and the address to dial, when it must be
// the one checked.
func containerTarget(getenv func(string) string) (target *url.URL, dialAddr string, err error) {
	if rel := getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		u, err := url.Parse(ecsEndpoint.base + rel)
		if err != nil {
			return nil, "", fmt.Errorf("aws: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a path")
		}
		return u, ecsEndpoint.dial, nil
	}
	full := getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	if full == "" {
		return nil, "", nil
	}
	u, err := url.Parse(full)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, "", fmt.Errorf("aws: AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL")
	}
	if u.Scheme == "https" {
		return u, "", nil
	}
	dialAddr, err = allowedHTTPAddr(u)
	return u, dialAddr, err
}

// allowedHTTPAddr resolves the host of an http FULL_URI and returns the
// address to dial, when every address is loopback or a container host.
func allowedHTTPAddr(u *url.URL) (string, error) {
	ips, err := net.LookupIP(u.Hostname())
	if err != nil || len(ips) == 0 {
		return "", fmt.Errorf("aws: container endpoint host %q does not resolve", u.Hostname())
	}
	for _, ip := range ips {
		if !allowedIP(ip) {
			return "", fmt.Errorf("aws: container endpoint %s is http to %s, which is neither loopback nor a container credentials host", u.Redacted(), ip)
		}
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(ips[0].String(), port), nil
}

// containerClient returns the client of the container source: no proxy,
// no redirects, short timeouts, dialing dialAddr when it is set.
func containerClient(dialAddr string) *http.Client {
	tr := &http.Transport{Proxy: nil, ResponseHeaderTimeout: 5 * time.Second}
	if dialAddr != "" {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, dialAddr)
		}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// retrieve fetches the credentials from the endpoint.
func (s *containerSource) retrieve(ctx context.Context) (sigv4.Credentials, error) {
	token, err := s.authToken()
	if err != nil {
		return sigv4.Credentials{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.target.String(), nil)
	if err != nil {
		return sigv4.Credentials{}, err
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return sigv4.Credentials{}, fmt.Errorf("aws container endpoint: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return sigv4.Credentials{}, containerError(resp.StatusCode, data)
	}
	return parseJSONCreds(data, "container")
}

// authToken returns the authorization token: the token file's content
// when the file is set (untrimmed), else the variable's. A CR or LF in it
// is an error.
func (s *containerSource) authToken() (string, error) {
	token := s.tokenVar
	if s.tokenFile != "" {
		b, err := os.ReadFile(s.tokenFile) // read again at every refresh
		if err != nil {
			return "", fmt.Errorf("aws container endpoint: %w", err)
		}
		token = string(b)
	}
	if strings.ContainsAny(token, "\r\n") {
		return "", errors.New("aws container endpoint: the authorization token holds a CR or LF")
	}
	return token, nil
}

// containerError is the error of an answer other than 200: the status and
// only the error code, as the body and its message are the endpoint's to
// fill, and errors never quote a response body.
func containerError(status int, data []byte) error {
	var e struct{ Code string }
	_ = json.Unmarshal(data, &e)
	if !validCode(e.Code) {
		e.Code = "unknown"
	}
	return fmt.Errorf("aws container endpoint: status %d, code %s", status, e.Code)
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
