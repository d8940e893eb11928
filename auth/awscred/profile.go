package awscred

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/sigv4"
)

// profileResolver builds the source of a shared-config profile: its own
// credentials (static keys, credential_source, web identity, IAM Identity
// Center, credential_process) or those of its source_profile, then
// AssumeRole when it sets role_arn (with an MFA code when it sets
// mfa_serial). visited stops source_profile loops.
type profileResolver struct {
	r       *resolver
	visited map[string]bool
}

func newProfileResolver(r *resolver) *profileResolver {
	return &profileResolver{r: r, visited: map[string]bool{}}
}

// source returns the source of profile name and what it is (for the
// report), or nil when the profile names no credentials.
func (pr *profileResolver) source(name string) (source, string, error) {
	p := pr.r.files.profiles[name]
	if p == nil {
		return nil, "", fmt.Errorf("aws: source_profile %q does not exist", name)
	}
	if err := checkProfile(name, p); err != nil {
		return nil, "", err
	}
	// A profile visited before (its own source_profile) gives its own
	// keys, without its role.
	self := pr.visited[name]
	pr.visited[name] = true
	base, what, roleDone, err := pr.base(name, p, self)
	if err != nil {
		return nil, "", err
	}
	if base == nil || roleDone || p["role_arn"] == "" || self {
		return base, what, nil
	}
	sts, err := pr.r.sts()
	if err != nil {
		return nil, "", err
	}
	role, err := roleOf(name, p, pr.r.now)
	if err != nil {
		return nil, "", err
	}
	what += ", then assume role " + role.arn
	if role.serialNumber != "" {
		src, err := pr.mfaRole(name, base, sts, role)
		return src, what + " with MFA device " + role.serialNumber, err
	}
	return func(ctx context.Context) (sigv4.Credentials, error) {
		creds, err := base(ctx)
		if err != nil {
			return sigv4.Credentials{}, err
		}
		return sts.assumeRole(ctx, creds, role)
	}, what, nil
}

// mfaRole returns the source of a role assumed with the code of an MFA
// device, asked of Options.MFATokenCode. The session is cached (an
// auth.Cache, as RoleSource does) for its duration, so the code is asked
// for when a session starts or is renewed, not at every fetch, even when
// this role is an inner hop of a chain. Error: no MFATokenCode.
func (pr *profileResolver) mfaRole(name string, base source, sts *stsClient, role assumeRole) (source, error) {
	ask := pr.r.mfaTokenCode
	if ask == nil {
		return nil, fmt.Errorf("aws: profile %q sets mfa_serial %s, and no MFA code function is set: set awscred.Options.MFATokenCode to a function that returns the device's current code (asking the user, say), or use temporary credentials from `aws sts get-session-token`", name, role.serialNumber)
	}
	cache := auth.NewCache(func(ctx context.Context) (sigv4.Credentials, time.Time, error) {
		creds, err := base(ctx)
		if err != nil {
			return sigv4.Credentials{}, time.Time{}, err
		}
		code, err := ask(ctx, role.serialNumber)
		if err != nil {
			return sigv4.Credentials{}, time.Time{}, fmt.Errorf("aws: profile %q: the MFA code of %s: %w", name, role.serialNumber, err)
		}
		call := role
		call.tokenCode = strings.TrimSpace(code)
		if call.tokenCode == "" {
			return sigv4.Credentials{}, time.Time{}, fmt.Errorf("aws: profile %q: the MFA code function returned an empty code for %s", name, role.serialNumber)
		}
		c, err := sts.assumeRole(ctx, creds, call)
		return c, c.Expires, err
	}, pr.r.now)
	return cache.Get, nil
}

// checkProfile rejects, before any request, a profile that sets more
// than one source or only one of the key pair.
func checkProfile(name string, p map[string]string) error {
	set := 0
	for _, k := range []string{"source_profile", "credential_source", "credential_process", "web_identity_token_file"} {
		if p[k] != "" {
			set++
		}
	}
	if set > 1 {
		return fmt.Errorf("aws: profile %q sets more than one of source_profile, credential_source, credential_process and web_identity_token_file", name)
	}
	if (p["aws_access_key_id"] == "") != (p["aws_secret_access_key"] == "") {
		return fmt.Errorf("aws: profile %q has partial credentials: only one of aws_access_key_id and aws_secret_access_key", name)
	}
	return nil
}

// base returns the credentials the profile's role is assumed with (or the
// profile's, when it has no role), and what they are; roleDone is true
// when the source already assumes the role (web identity). nil: the
// profile names no credentials.
func (pr *profileResolver) base(name string, p map[string]string, self bool) (src source, what string, roleDone bool, err error) {
	srcProfile, credSource, roleArn := p["source_profile"], p["credential_source"], p["role_arn"]
	switch {
	case srcProfile != "" && !self && roleArn != "":
		src, what, err = pr.source(srcProfile)
		if err == nil && src == nil {
			err = fmt.Errorf("aws: source_profile %q of profile %q names no credentials", srcProfile, name)
		}
		return src, what, false, err
	case srcProfile != "" && roleArn == "":
		return nil, "", false, fmt.Errorf("aws: profile %q sets source_profile without role_arn", name)
	case credSource != "" && roleArn == "":
		return nil, "", false, fmt.Errorf("aws: profile %q sets credential_source without role_arn", name)
	case credSource != "":
		src, err = pr.r.credentialSource(name, credSource)
		return src, "credential_source " + credSource, false, err
	case p["aws_access_key_id"] != "":
		return staticProfileSource(name, p), "static keys", false, nil
	case p["web_identity_token_file"] != "":
		src, what, err = pr.webIdentity(name, p)
		return src, what, true, err
	case isSSOProfile(p):
		// Before credential_process, as in the SDKs.
		src, what, err = pr.r.ssoSource(name, p)
		return src, what, false, err
	case p["credential_process"] != "":
		cmd := p["credential_process"]
		return func(ctx context.Context) (sigv4.Credentials, error) { return runProcess(ctx, cmd, name) }, "credential_process", false, nil
	}
	return nil, "", false, nil
}

// staticProfileSource returns the profile's keys.
func staticProfileSource(name string, p map[string]string) source {
	creds := sigv4.Credentials{AccessKeyID: p["aws_access_key_id"], SecretAccessKey: p["aws_secret_access_key"], SessionToken: p["aws_session_token"], AccountID: p["aws_account_id"], Source: "profile " + name}
	return func(context.Context) (sigv4.Credentials, error) { return creds, nil }
}

// webIdentity returns the source of a profile's web_identity_token_file,
// which assumes the profile's role itself.
func (pr *profileResolver) webIdentity(name string, p map[string]string) (source, string, error) {
	roleArn := p["role_arn"]
	if roleArn == "" {
		return nil, "", fmt.Errorf("aws: profile %q sets web_identity_token_file without role_arn", name)
	}
	src, err := pr.r.webIdentitySource(p["web_identity_token_file"], roleArn, p["role_session_name"])
	if err != nil {
		return nil, "", err
	}
	return src, "web_identity_token_file, then assume role " + roleArn + " with web identity", nil
}

// roleOf returns the AssumeRole call of a role profile: role_arn,
// role_session_name (else one made of the time), external_id, mfa_serial
// and duration_seconds (900 to 43200; 900 when not set).
func roleOf(name string, p map[string]string, now func() time.Time) (assumeRole, error) {
	role := assumeRole{arn: p["role_arn"], sessionName: p["role_session_name"], externalID: p["external_id"], serialNumber: p["mfa_serial"], duration: 900 * time.Second}
	if role.sessionName == "" {
		role.sessionName = fmt.Sprintf("anyblob-%d", now().UnixNano())
	}
	if d := p["duration_seconds"]; d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			return role, fmt.Errorf("aws: profile %q: duration_seconds %q is not a number of seconds from 900 to 43200", name, d)
		}
		role.duration = time.Duration(n) * time.Second
	}
	return role, nil
}

// credentialSource is the base of a role profile's credential_source:
// Environment (the environment keys), Ec2InstanceMetadata (IMDS) or
// EcsContainer (the container endpoint).
func (r *resolver) credentialSource(profile, name string) (source, error) {
	switch name {
	case "Environment":
		id := firstNonEmpty(r.getenv("AWS_ACCESS_KEY_ID"), r.getenv("AWS_ACCESS_KEY"))
		secret := firstNonEmpty(r.getenv("AWS_SECRET_ACCESS_KEY"), r.getenv("AWS_SECRET_KEY"))
		if id == "" || secret == "" {
			return nil, fmt.Errorf("aws: profile %q: credential_source Environment, but the environment holds no keys", profile)
		}
		creds := sigv4.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: r.getenv("AWS_SESSION_TOKEN"), AccountID: r.getenv("AWS_ACCOUNT_ID"), Source: "env"}
		return func(context.Context) (sigv4.Credentials, error) { return creds, nil }, nil
	case "Ec2InstanceMetadata":
		return r.newIMDS().retrieve, nil
	case "EcsContainer":
		cs, err := r.newContainer()
		if err != nil {
			return nil, err
		}
		if cs == nil {
			return nil, fmt.Errorf("aws: profile %q: credential_source EcsContainer, but no container endpoint is set", profile)
		}
		return cs.retrieve, nil
	}
	return nil, fmt.Errorf("aws: profile %q: credential_source %q is not Environment, Ec2InstanceMetadata or EcsContainer", profile, name)
}

// processOutput is credential_process's Version 1 output.
type processOutput struct {
	Version         int
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
	AccountID       string `json:"AccountId"`
}

// runProcess runs a credential_process command through the shell with a
// one-minute timeout. Its output holds secrets: errors never quote it.
func runProcess(ctx context.Context, command, profile string) (sigv4.Credentials, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.CommandContext(ctx, "cmd.exe", "/C", command)
	} else {
		cmd = exec.CommandContext(ctx, "sh", "-c", command)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		// err is "exit status N", a signal, or why sh could not start;
		// never the output, which may hold a secret.
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (the one-minute limit, or the caller's)", ctx.Err())
		}
		return sigv4.Credentials{}, fmt.Errorf("aws: credential_process of profile %q failed: %w", profile, err)
	}
	var po processOutput
	if err := json.Unmarshal(out.Bytes(), &po); err != nil {
		return sigv4.Credentials{}, fmt.Errorf("aws: credential_process of profile %q printed something that is not its JSON (%d bytes, not shown)", profile, out.Len())
	}
	if po.Version != 1 {
		return sigv4.Credentials{}, fmt.Errorf("aws: credential_process of profile %q printed Version %d; only Version 1 is known", profile, po.Version)
	}
	if po.AccessKeyID == "" || po.SecretAccessKey == "" {
		return sigv4.Credentials{}, fmt.Errorf("aws: credential_process of profile %q printed no AccessKeyId or SecretAccessKey", profile)
	}
	c := sigv4.Credentials{AccessKeyID: po.AccessKeyID, SecretAccessKey: po.SecretAccessKey, SessionToken: po.SessionToken, AccountID: po.AccountID, Source: "credential_process"}
	if po.Expiration != "" {
		exp, err := time.Parse(time.RFC3339, po.Expiration)
		if err != nil {
			return sigv4.Credentials{}, fmt.Errorf("aws: credential_process of profile %q printed a bad Expiration", profile)
		}
		c.Expires = exp
	}
	return c, nil
}
