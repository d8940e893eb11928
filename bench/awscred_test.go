package bench

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/awscred"
)

// credFake is IAM Identity Center (the SSO portal and SSO OIDC) and STS
// on one loopback server, as one AWS_ENDPOINT_URL_* per service would see
// it. Its answers depend on what it is sent (the bearer token, the
// signing key, the MFA code), so two clients get the same credentials
// only if they send the same things; it records a normalized line per
// request so that the two can be compared too.
type credFake struct {
	url        string
	expiration time.Time // of every credential it hands out

	mu  sync.Mutex
	log []string
}

var credentialRE = regexp.MustCompile(`Credential=([^/]+)/`)

func newCredFake(t *testing.T) *credFake {
	f := &credFake{expiration: time.Now().Add(time.Hour).Truncate(time.Second).UTC()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /federation/credentials", func(w http.ResponseWriter, r *http.Request) {
		tok, q := r.Header.Get("x-amz-sso_bearer_token"), r.URL.Query()
		f.record(fmt.Sprintf("portal account_id=%s role_name=%s bearer=%s", q.Get("account_id"), q.Get("role_name"), tok))
		if !strings.HasPrefix(tok, "access-") {
			w.Header().Set("x-amzn-ErrorType", "UnauthorizedException")
			http.Error(w, `{"message":"bad token"}`, http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"roleCredentials":{"accessKeyId":"ASIASSO%[1]s","secretAccessKey":"sso-secret-%[1]s-%[2]s","sessionToken":"sso-session-%[1]s","expiration":%[3]d}}`,
			q.Get("role_name"), tok, f.expiration.UnixMilli())
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		keys := make([]string, 0, len(body))
		for k := range body {
			keys = append(keys, k+"="+body[k])
		}
		sort.Strings(keys)
		f.record("oidc " + strings.Join(keys, " "))
		if body["grantType"] != "refresh_token" || body["clientSecret"] != "client-secret" || body["refreshToken"] != "refresh-1" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		fmt.Fprint(w, `{"accessToken":"access-refreshed","tokenType":"Bearer","expiresIn":3600,"refreshToken":"refresh-2"}`)
	})
	mux.HandleFunc("POST /{$}", func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(data))
		signer := ""
		if m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			signer = m[1]
		}
		var fields []string
		for _, k := range []string{"Action", "Version", "RoleArn", "RoleSessionName", "DurationSeconds", "ExternalId", "SerialNumber", "TokenCode"} {
			fields = append(fields, k+"="+form.Get(k))
		}
		f.record("sts " + strings.Join(fields, " ") + " signed-by=" + signer)
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>role-secret-%s-%s</SecretAccessKey><SessionToken>role-session-%s</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::444455556666:assumed-role/deploy/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`,
			signer, form.Get("TokenCode"), signer, f.expiration.Format(time.RFC3339))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *credFake) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, s)
}

// take returns the recorded requests and forgets them.
func (f *credFake) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.log
	f.log = nil
	return l
}

const credConfig = `[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Admin
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile old]
sso_start_url = https://old.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 111122223333
sso_role_name = ReadOnly
region = us-east-1

[profile deploy]
role_arn = arn:aws:iam::444455556666:role/deploy
source_profile = dev
role_session_name = deploy-1
region = us-east-1

[profile base]
aws_access_key_id = AKIABASE
aws_secret_access_key = base-secret
region = us-east-1

[profile mfa]
role_arn = arn:aws:iam::444455556666:role/mfa
source_profile = base
mfa_serial = arn:aws:iam::444455556666:mfa/me
role_session_name = mfa-1
region = us-east-1
`

// TestAWSCredMatchesSDKConfig resolves the same profiles, offline against
// the same fakes, with aws-sdk-go-v2's config.LoadDefaultConfig and with
// awscred's chain, and requires identical credentials (key, secret,
// session token, expiry), identical requests, and for a refreshed SSO
// token the same token cache afterwards.
func TestAWSCredMatchesSDKConfig(t *testing.T) {
	f := newCredFake(t)
	home := t.TempDir()
	cfgPath := filepath.Join(home, ".aws", "config")
	require.NoError(t, os.MkdirAll(filepath.Dir(cfgPath), 0o700))
	require.NoError(t, os.WriteFile(cfgPath, []byte(credConfig), 0o600))
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": cfgPath, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, ".aws", "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SSO": f.url, "AWS_ENDPOINT_URL_SSO_OIDC": f.url, "AWS_ENDPOINT_URL_STS": f.url,
	} {
		t.Setenv(k, v)
	}
	cachePath := func(key string) string {
		sum := sha1.Sum([]byte(key))
		return filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
	}
	// One registration expiry for every cache written, so that the two
	// sides' caches, written moments apart, never differ by a second.
	registrationExpires := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	writeCache := func(key string, expires time.Time, refreshable bool) {
		c := map[string]string{"startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1", "accessToken": "access-cached", "expiresAt": expires.UTC().Format(time.RFC3339)}
		if refreshable {
			c["clientId"], c["clientSecret"], c["refreshToken"] = "client-1", "client-secret", "refresh-1"
			c["registrationExpiresAt"] = registrationExpires
		}
		data, err := json.Marshal(c)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(cachePath(key)), 0o700))
		require.NoError(t, os.WriteFile(cachePath(key), data, 0o600))
	}
	code := func() (string, error) { return "123456", nil }

	for _, tc := range []struct {
		name, profile string
		setup         func()
		cacheKey      string // the cache to compare afterwards; "" for none
		wantRequests  []string
	}{
		{name: "sso_session", profile: "dev", setup: func() { writeCache("corp", time.Now().Add(time.Hour), true) },
			wantRequests: []string{"portal account_id=111122223333 role_name=Admin bearer=access-cached"}},
		{name: "legacy sso_start_url", profile: "old", setup: func() { writeCache("https://old.awsapps.com/start", time.Now().Add(time.Hour), false) },
			wantRequests: []string{"portal account_id=111122223333 role_name=ReadOnly bearer=access-cached"}},
		{name: "expired token refreshed", profile: "dev", setup: func() { writeCache("corp", time.Now().Add(-time.Hour), true) }, cacheKey: "corp",
			wantRequests: []string{
				"oidc clientId=client-1 clientSecret=client-secret grantType=refresh_token refreshToken=refresh-1",
				"portal account_id=111122223333 role_name=Admin bearer=access-refreshed"}},
		{name: "sso as source_profile", profile: "deploy", setup: func() { writeCache("corp", time.Now().Add(time.Hour), true) },
			wantRequests: []string{
				"portal account_id=111122223333 role_name=Admin bearer=access-cached",
				"sts Action=AssumeRole Version=2011-06-15 RoleArn=arn:aws:iam::444455556666:role/deploy RoleSessionName=deploy-1 DurationSeconds=900 ExternalId= SerialNumber= TokenCode= signed-by=ASIASSOAdmin"}},
		{name: "mfa role", profile: "mfa", setup: func() {},
			wantRequests: []string{"sts Action=AssumeRole Version=2011-06-15 RoleArn=arn:aws:iam::444455556666:role/mfa RoleSessionName=mfa-1 DurationSeconds=900 ExternalId= SerialNumber=arn:aws:iam::444455556666:mfa/me TokenCode=123456 signed-by=AKIABASE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tc.setup()
			f.take()
			sdkCfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile(tc.profile),
				config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) { o.TokenProvider = code }))
			require.NoError(t, err)
			theirs, err := sdkCfg.Credentials.Retrieve(ctx)
			require.NoError(t, err)
			theirRequests := f.take()
			var theirCache map[string]string
			if tc.cacheKey != "" {
				theirCache = readJSON(t, cachePath(tc.cacheKey))
			}

			tc.setup()
			chain, err := awscred.NewChain(&awscred.Options{Profile: tc.profile, AllowHTTP: true,
				MFATokenCode: func(context.Context, string) (string, error) { return code() }})
			require.NoError(t, err)
			ours, err := chain.Retrieve(ctx)
			require.NoError(t, err)
			ourRequests := f.take()

			require.Equal(t, theirs.AccessKeyID, ours.AccessKeyID)
			require.Equal(t, theirs.SecretAccessKey, ours.SecretAccessKey)
			require.Equal(t, theirs.SessionToken, ours.SessionToken)
			require.True(t, theirs.CanExpire)
			require.True(t, theirs.Expires.Equal(ours.Expires), "expiry: sdk %s, ours %s", theirs.Expires, ours.Expires)
			require.Equal(t, tc.wantRequests, theirRequests, "what the SDK sent")
			require.Equal(t, theirRequests, ourRequests, "we send what the SDK sends")
			if tc.cacheKey != "" {
				ourCache := readJSON(t, cachePath(tc.cacheKey))
				theirExp, err := time.Parse(time.RFC3339, theirCache["expiresAt"])
				require.NoError(t, err)
				ourExp, err := time.Parse(time.RFC3339, ourCache["expiresAt"])
				require.NoError(t, err)
				require.WithinDuration(t, theirExp, ourExp, 5*time.Second)
				delete(theirCache, "expiresAt")
				delete(ourCache, "expiresAt")
				require.Equal(t, theirCache, ourCache, "the same token cache afterwards")
			}
		})
	}
}

func readJSON(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}
