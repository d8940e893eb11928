package awscred

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"time"

	"github.com/anyblob/anyblob/auth/sigv4"
)

// profileSource builds the source for profile name, following
// source_profile; visited stops loops. It returns nil when the profile
// names no credentials.
func (r *resolver) profileSource(name string, visited map[string]bool) (source, string, error) {
	p := r.files.profiles[name]
	if p == nil {
		return nil, "", fmt.Errorf("aws: source_profile %q does not exist", name)
	}
	srcProfile, credSource := p["source_profile"], p["credential_source"]
	set := 0
	for _, k := range []string{"source_profile", "credential_source", "credential_process", "web_identity_token_file"} {
		if p[k] != "" {
			set++
		}
	}
	if set > 1 {
		return nil, "", fmt.Errorf("aws: profile %q sets more than one of source_profile, credential_source, credential_process and web_identity_token_file", name)
	}
	id, secret := p["aws_access_key_id"], p["aws_secret_access_key"]
	if (id == "") != (secret == "") {
		return nil, "", fmt.Errorf("aws: profile %q has partial credentials: only one of aws_access_key_id and aws_secret_access_key", name)
	}
	roleArn := p["role_arn"]
	if roleArn != "" && p["mfa_serial"] != "" {
		// AssumeRole would need a code from the device: not supported, and
		// better said now than as an AccessDenied from STS.
		return nil, "", fmt.Errorf("aws: profile %q sets mfa_serial: assuming a role with MFA is not supported; use temporary credentials from `aws sts get-session-token` instead", name)
	}
	self := visited[name]
	visited[name] = true

	var base source
	var what string
	switch {
	case srcProfile != "" && !self && roleArn != "":
		inner, innerWhat, err := r.profileSource(srcProfile, visited)
		if err != nil {
			return nil, "", err
		}
		if inner == nil {
			return nil, "", fmt.Errorf("aws: source_profile %q of profile %q names no credentials", srcProfile, name)
		}
		base, what = inner, innerWhat
	case srcProfile != "" && roleArn == "":
		return nil, "", fmt.Errorf("aws: profile %q sets source_profile without role_arn", name)
	case credSource != "" && roleArn == "":
		return nil, "", fmt.Errorf("aws: profile %q sets credential_source without role_arn", name)
	case credSource != "":
		src, err := r.credentialSource(name, credSource)
		if err != nil {
			return nil, "", err
		}
		base, what = src, "credential_source "+credSource
	case id != "":
		creds := sigv4.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: p["aws_session_token"], AccountID: p["aws_account_id"], Source: "profile " + name}
		base, what = func(context.Context) (sigv4.Credentials, error) { return creds, nil }, "static keys"
		if self || roleArn == "" {
			return base, what, nil
		}
	case p["web_identity_token_file"] != "":
		if roleArn == "" {
			return nil, "", fmt.Errorf("aws: profile %q sets web_identity_token_file without role_arn", name)
		}
		src, err := r.webIdentitySource(p["web_identity_token_file"], roleArn, p["role_session_name"])
		if err != nil {
			return nil, "", err
		}
		return src, "web_identity_token_file, then assume role " + roleArn + " with web identity", nil
	case p["credential_process"] != "":
		cmd := p["credential_process"]
		base, what = func(ctx context.Context) (sigv4.Credentials, error) { return runProcess(ctx, cmd, name) }, "credential_process"
		if roleArn == "" {
			return base, what, nil
		}
	case p["sso_session"] != "" || p["sso_start_url"] != "":
		return nil, "", fmt.Errorf("aws: profile %q uses IAM Identity Center (SSO), which is not supported; use credential_process = aws configure export-credentials --profile %s --format process", name, name)
	default:
		return nil, "", nil
	}
	if roleArn == "" || self {
		return base, what, nil
	}
	sts, err := r.sts()
	if err != nil {
		return nil, "", err
	}
	role := assumeRole{arn: roleArn, sessionName: p["role_session_name"], externalID: p["external_id"]}
	if role.sessionName == "" {
		role.sessionName = fmt.Sprintf("anyblob-%d", r.now().UnixNano())
	}
	if d := p["duration_seconds"]; d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			return nil, "", fmt.Errorf("aws: profile %q: duration_seconds %q is not a number of seconds from 900 to 43200", name, d)
		}
		role.duration = time.Duration(n) * time.Second
	} else {
		role.duration = 900 * time.Second
	}
	return func(ctx context.Context) (sigv4.Credentials, error) {
		creds, err := base(ctx)
		if err != nil {
			return sigv4.Credentials{}, err
		}
		return sts.assumeRole(ctx, creds, role)
	}, what + ", then assume role " + roleArn, nil
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
		return r.imdsSource(), nil
	case "EcsContainer":
		src, err := r.containerSource()
		if err != nil {
			return nil, err
		}
		if src == nil {
			return nil, fmt.Errorf("aws: profile %q: credential_source EcsContainer, but no container endpoint is set", profile)
		}
		return src, nil
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
