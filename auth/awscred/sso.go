package awscred

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/anyblob/anyblob/auth/sigv4"
)

// ErrSSOLoginRequired is matched (errors.Is) by the error of an IAM
// Identity Center (SSO) profile whose cached token is missing, unreadable,
// expired and not refreshable, or refused by the service: the user has to
// sign in again with `aws sso login --profile NAME`, which the error's
// message says with the profile's name. A missing token cache also
// matches fs.ErrNotExist.
var ErrSSOLoginRequired = errors.New("aws sso: login required")

// ssoRefreshWindow is how long before its expiry a refreshable SSO access
// token is refreshed.
const ssoRefreshWindow = 5 * time.Minute

// ssoKeys are the profile keys that make a profile an SSO profile, as in
// the SDKs (any one of them).
var ssoKeys = []string{"sso_session", "sso_start_url", "sso_region", "sso_account_id", "sso_role_name"}

// isSSOProfile reports whether p uses IAM Identity Center.
func isSSOProfile(p profile) bool {
	for _, k := range ssoKeys {
		if p[k] != "" {
			return true
		}
	}
	return false
}

// ssoProfile is what an SSO profile names, in either form.
type ssoProfile struct {
	profile string
	// session is the sso-session name; "" in the legacy form, where the
	// profile itself holds sso_start_url and sso_region.
	session             string
	startURL, region    string
	accountID, roleName string
}

// ssoProfileOf reads and checks the SSO settings of profile name, as the
// SDKs do: the sso_session form needs an [sso-session NAME] section with
// sso_start_url and sso_region (a profile that repeats them must agree);
// the legacy form needs both in the profile. Both need sso_account_id and
// sso_role_name.
func (r *resolver) ssoProfileOf(name string, p profile) (ssoProfile, error) {
	sp := ssoProfile{profile: name, session: p["sso_session"], startURL: p["sso_start_url"], region: p["sso_region"], accountID: p["sso_account_id"], roleName: p["sso_role_name"]}
	var missing []string
	if sp.session != "" {
		sec, ok := r.files.ssoSessions[sp.session]
		if !ok {
			return sp, fmt.Errorf("aws: profile %q names sso_session %q, but the config file has no [sso-session %s] section", name, sp.session, sp.session)
		}
		for _, k := range []string{"sso_start_url", "sso_region"} {
			if sec[k] == "" {
				missing = append(missing, k+" (in [sso-session "+sp.session+"])")
			}
			if p[k] != "" && sec[k] != "" && p[k] != sec[k] {
				return sp, fmt.Errorf("aws: profile %q sets %s %q, but [sso-session %s] sets %q: they must match", name, k, p[k], sp.session, sec[k])
			}
		}
		sp.startURL, sp.region = sec["sso_start_url"], sec["sso_region"]
	} else {
		for _, k := range []string{"sso_start_url", "sso_region"} {
			if p[k] == "" {
				missing = append(missing, k)
			}
		}
	}
	for _, k := range []string{"sso_account_id", "sso_role_name"} {
		if p[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return sp, fmt.Errorf("aws: profile %q uses IAM Identity Center (SSO) but does not set %s", name, strings.Join(missing, ", "))
	}
	return sp, nil
}

// ssoSource builds the source of an SSO profile: the cached token of `aws
// sso login`, refreshed when it can be, exchanged at the portal for the
// role's credentials. Errors (before any request): settings missing, no
// HOME to find the token cache in, or an endpoint that checkEndpoint
// refuses.
func (r *resolver) ssoSource(name string, p profile) (source, string, error) {
	sp, err := r.ssoProfileOf(name, p)
	if err != nil {
		return nil, "", err
	}
	home := firstNonEmpty(r.getenv("HOME"), r.getenv("USERPROFILE"))
	if home == "" {
		return nil, "", fmt.Errorf("aws: profile %q uses IAM Identity Center (SSO), but HOME is not set: no token cache to read", name)
	}
	key := sp.startURL
	if sp.session != "" {
		key = sp.session
	}
	sum := sha1.Sum([]byte(key))
	s := &ssoSource{
		sp:        sp,
		cachePath: filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json"),
		portal:    strings.TrimSuffix(firstNonEmpty(r.ssoEndpoint, "https://portal.sso."+sp.region+".amazonaws.com"), "/"),
		oidc:      strings.TrimSuffix(firstNonEmpty(r.oidcEndpoint, "https://oidc."+sp.region+".amazonaws.com"), "/"),
		http:      r.http,
		now:       r.now,
		logger:    r.logger,
	}
	if err := checkEndpoint("SSO", s.portal, r.allowHTTP); err != nil {
		return nil, "", err
	}
	what := "IAM Identity Center (SSO) session " + sp.session
	if sp.session == "" {
		what = "IAM Identity Center (SSO) start URL " + sp.startURL
	} else if err := checkEndpoint("SSO OIDC", s.oidc, r.allowHTTP); err != nil {
		return nil, "", err
	}
	return s.retrieve, what + ", account " + sp.accountID + ", role " + sp.roleName, nil
}

// ssoSource gets a role's credentials from the IAM Identity Center
// portal with the cached access token.
type ssoSource struct {
	sp           ssoProfile
	cachePath    string
	portal, oidc string // endpoints, without a trailing '/'
	http         *http.Client
	now          func() time.Time
	logger       *slog.Logger // nil: none
	// mu serializes reading, refreshing and rewriting the token cache.
	mu sync.Mutex
}

// retrieve returns the role's credentials.
func (s *ssoSource) retrieve(ctx context.Context) (sigv4.Credentials, error) {
	tok, err := s.accessToken(ctx)
	if err != nil {
		return sigv4.Credentials{}, err
	}
	return s.roleCredentials(ctx, tok)
}

// ssoToken is the token cache file of `aws sso login`. It holds secrets:
// never print it.
type ssoToken struct {
	AccessToken           string `json:"accessToken"`
	ExpiresAt             string `json:"expiresAt"`
	RefreshToken          string `json:"refreshToken"`
	ClientID              string `json:"clientId"`
	ClientSecret          string `json:"clientSecret"`
	RegistrationExpiresAt string `json:"registrationExpiresAt"`
	Region                string `json:"region"`
	StartURL              string `json:"startUrl"`
}

// String hides the token's secrets.
func (ssoToken) String() string { return "ssoToken{redacted}" }

// GoString hides the token's secrets.
func (t ssoToken) GoString() string { return t.String() }

// parseCacheTime reads a time of the token cache: RFC 3339, or the
// "2006-01-02T15:04:05UTC" of older CLIs.
func parseCacheTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05UTC", v)
}

// loginRequired returns an error matching ErrSSOLoginRequired (and cause,
// when not nil) that says why and what to run.
func (s *ssoSource) loginRequired(why string, cause error) error {
	hint := fmt.Sprintf("run `aws sso login --profile %s`", s.sp.profile)
	if cause != nil {
		return fmt.Errorf("%w: profile %q: %s: %w; %s", ErrSSOLoginRequired, s.sp.profile, why, cause, hint)
	}
	return fmt.Errorf("%w: profile %q: %s; %s", ErrSSOLoginRequired, s.sp.profile, why, hint)
}

// accessToken returns a valid access token from the cache, refreshing it
// (sso_session form only, as in the SDKs) when it is expired or within
// ssoRefreshWindow of it and the cache holds a refresh token and an
// unexpired client registration. A refresh that fails while the old token
// is still valid is ignored: the old token is used.
func (s *ssoSource) accessToken(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, raw, err := s.readCache()
	if err != nil {
		return "", err
	}
	exp, err := parseCacheTime(tok.ExpiresAt)
	if err != nil {
		return "", s.loginRequired("the token cache "+s.cachePath+" has a bad expiresAt", nil)
	}
	now := s.now()
	if now.Before(exp.Add(-ssoRefreshWindow)) {
		return tok.AccessToken, nil
	}
	valid := now.Before(exp)
	why := s.notRefreshable(tok, now)
	if why != "" {
		if valid {
			return tok.AccessToken, nil
		}
		return "", s.loginRequired("the cached token expired at "+exp.UTC().Format(time.RFC3339)+" and "+why, nil)
	}
	fresh, err := s.refresh(ctx, tok)
	if err == nil {
		if err := s.writeCache(raw, fresh); err != nil && s.logger != nil {
			// The new token still works for this process.
			s.logger.Warn("aws sso: could not write the refreshed token cache", "path", s.cachePath, "err", err)
		}
		return fresh.AccessToken, nil
	}
	if valid {
		return tok.AccessToken, nil
	}
	var he *ssoHTTPError
	if errors.As(err, &he) && (he.Status == http.StatusBadRequest || he.Status == http.StatusUnauthorized) {
		return "", s.loginRequired("the cached token expired and SSO OIDC refused to refresh it", err)
	}
	return "", fmt.Errorf("aws sso: profile %q: the cached token expired and refreshing it failed: %w", s.sp.profile, err)
}

// notRefreshable says why tok cannot be refreshed at now, or "" when it
// can.
func (s *ssoSource) notRefreshable(tok ssoToken, now time.Time) string {
	switch {
	case s.sp.session == "":
		return "a profile of the legacy form (sso_start_url without sso_session) cannot refresh it"
	case tok.RefreshToken == "" || tok.ClientID == "" || tok.ClientSecret == "":
		return "the cache holds no refresh token and client registration"
	case tok.RegistrationExpiresAt != "":
		reg, err := parseCacheTime(tok.RegistrationExpiresAt)
		if err != nil {
			return "the cache's registrationExpiresAt is bad"
		}
		if !now.Before(reg) {
			return "the client registration expired at " + reg.UTC().Format(time.RFC3339)
		}
	}
	return ""
}

// readCache reads the token cache; raw keeps every field, so that a
// rewrite loses none the CLI wrote.
func (s *ssoSource) readCache() (ssoToken, map[string]json.RawMessage, error) {
	var tok ssoToken
	data, err := os.ReadFile(s.cachePath)
	if errors.Is(err, fs.ErrNotExist) {
		return tok, nil, s.loginRequired("no cached SSO token", err)
	}
	if err != nil {
		return tok, nil, fmt.Errorf("aws sso: profile %q: %w", s.sp.profile, err)
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(data, &raw) != nil || json.Unmarshal(data, &tok) != nil {
		return tok, nil, s.loginRequired(fmt.Sprintf("the token cache %s is not JSON (%d bytes, not shown)", s.cachePath, len(data)), nil)
	}
	if tok.AccessToken == "" || tok.ExpiresAt == "" {
		return tok, nil, s.loginRequired("the token cache "+s.cachePath+" holds no accessToken or expiresAt", nil)
	}
	return tok, raw, nil
}

// writeCache writes tok's access token, expiry and refresh token into the
// cache, keeping its other fields: to a temporary file in the same
// directory, mode 0600, then renamed over the old one, so that a reader
// (the CLI, another process) sees the old file or the new, never half of
// one.
func (s *ssoSource) writeCache(raw map[string]json.RawMessage, tok ssoToken) (err error) {
	for k, v := range map[string]string{"accessToken": tok.AccessToken, "expiresAt": tok.ExpiresAt, "refreshToken": tok.RefreshToken} {
		raw[k], _ = json.Marshal(v)
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(s.cachePath), "."+filepath.Base(s.cachePath)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), s.cachePath)
}

// refresh calls SSO OIDC CreateToken with the cached refresh token and
// returns tok with the new access token, its expiry and the new refresh
// token (the old one when the answer has none).
func (s *ssoSource) refresh(ctx context.Context, tok ssoToken) (ssoToken, error) {
	body, err := json.Marshal(map[string]string{"grantType": "refresh_token", "clientId": tok.ClientID, "clientSecret": tok.ClientSecret, "refreshToken": tok.RefreshToken})
	if err != nil {
		return tok, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.oidc+"/token", bytes.NewReader(body))
	if err != nil {
		return tok, fmt.Errorf("aws sso: SSO OIDC endpoint: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	data, err := s.call(req, "SSO OIDC CreateToken")
	if err != nil {
		return tok, err
	}
	var out struct {
		AccessToken  string `json:"accessToken"`
		ExpiresIn    int64  `json:"expiresIn"`
		RefreshToken string `json:"refreshToken"`
	}
	if json.Unmarshal(data, &out) != nil || out.AccessToken == "" || out.ExpiresIn <= 0 {
		return tok, errors.New("aws sso: the SSO OIDC CreateToken answer holds no access token and expiresIn")
	}
	tok.AccessToken = out.AccessToken
	tok.ExpiresAt = s.now().Add(time.Duration(out.ExpiresIn) * time.Second).UTC().Format(time.RFC3339)
	if out.RefreshToken != "" {
		tok.RefreshToken = out.RefreshToken
	}
	return tok, nil
}

// roleCredentials calls the portal's GetRoleCredentials with the access
// token.
func (s *ssoSource) roleCredentials(ctx context.Context, accessToken string) (sigv4.Credentials, error) {
	if strings.ContainsAny(accessToken, "\r\n") {
		return sigv4.Credentials{}, s.loginRequired("the cached access token holds a line break", nil)
	}
	q := url.Values{"account_id": {s.sp.accountID}, "role_name": {s.sp.roleName}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.portal+"/federation/credentials?"+q.Encode(), nil)
	if err != nil {
		return sigv4.Credentials{}, fmt.Errorf("aws sso: SSO endpoint: %w", err)
	}
	req.Header.Set("x-amz-sso_bearer_token", accessToken)
	data, err := s.call(req, "SSO GetRoleCredentials")
	var he *ssoHTTPError
	if errors.As(err, &he) && he.Status == http.StatusUnauthorized {
		return sigv4.Credentials{}, s.loginRequired("the portal refused the cached token", err)
	}
	if err != nil {
		return sigv4.Credentials{}, fmt.Errorf("aws sso: profile %q: %w", s.sp.profile, err)
	}
	var out struct {
		RoleCredentials struct {
			AccessKeyID     string `json:"accessKeyId"`
			SecretAccessKey string `json:"secretAccessKey"`
			SessionToken    string `json:"sessionToken"`
			Expiration      int64  `json:"expiration"`
		} `json:"roleCredentials"`
	}
	rc := &out.RoleCredentials
	if json.Unmarshal(data, &out) != nil || rc.AccessKeyID == "" || rc.SecretAccessKey == "" || rc.Expiration <= 0 {
		return sigv4.Credentials{}, fmt.Errorf("aws sso: profile %q: the GetRoleCredentials answer holds no credentials (%d bytes, not shown)", s.sp.profile, len(data))
	}
	return sigv4.Credentials{
		AccessKeyID: rc.AccessKeyID, SecretAccessKey: rc.SecretAccessKey, SessionToken: rc.SessionToken,
		AccountID: s.sp.accountID, Expires: time.UnixMilli(rc.Expiration).UTC(), Source: "sso profile " + s.sp.profile,
	}, nil
}

// ssoHTTPError is a refusal by SSO or SSO OIDC: the status and the error
// code, never the body (which may echo what was sent).
type ssoHTTPError struct {
	API    string
	Status int
	Code   string
}

func (e *ssoHTTPError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("aws sso: %s answered status %d", e.API, e.Status)
	}
	return fmt.Sprintf("aws sso: %s answered status %d, code %s", e.API, e.Status, e.Code)
}

// errorCodeRE is what an error code looks like; anything else in the
// answer is not quoted.
var errorCodeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.]{0,63}$`)

// call sends req and returns the body of a 200 answer, or an
// *ssoHTTPError.
func (s *ssoSource) call(req *http.Request, api string) ([]byte, error) {
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("aws sso: %s: %w", api, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("aws sso: %s: reading the answer: %w", api, err)
	}
	if resp.StatusCode == http.StatusOK {
		return data, nil
	}
	// The code: the x-amzn-ErrorType header ("Code:namespace"), else the
	// body's "error" (OAuth) or "__type" ("namespace#Code").
	code, _, _ := strings.Cut(resp.Header.Get("X-Amzn-Errortype"), ":")
	if code == "" {
		var eb struct {
			Error string `json:"error"`
			Type  string `json:"__type"`
		}
		_ = json.Unmarshal(data, &eb)
		code = eb.Error
		if code == "" {
			code = eb.Type[strings.LastIndex(eb.Type, "#")+1:]
		}
	}
	if !errorCodeRE.MatchString(code) {
		code = ""
	}
	return nil, &ssoHTTPError{API: api, Status: resp.StatusCode, Code: code}
}

// String describes the SSO profile without secrets (the token cache's
// path is not one).
func (s *ssoSource) String() string {
	return "sso profile " + s.sp.profile + " (account " + s.sp.accountID + ", role " + s.sp.roleName + ", cache " + s.cachePath + ")"
}
