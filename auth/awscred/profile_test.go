package awscred_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/awscred"
)

// Profile shapes from the reference: self-reference, loops and settings
// that are errors before any request.
func TestProfileShapes(t *testing.T) {
	const baseKeys = "aws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n"
	for _, tc := range []struct {
		name, config string
		wantErr      string
		wantSigners  []string // SignedBy of each AssumeRole, in order
	}{
		{name: "self reference uses its own keys",
			config:      "[profile p]\nrole_arn = arn:aws:iam::1:role/self\nsource_profile = p\n" + baseKeys,
			wantSigners: []string{"AKIABASE"}},
		{name: "a loop ends in an error",
			config:  "[profile p]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = q\n[profile q]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = p\n",
			wantErr: "names no credentials"},
		{name: "partial keys",
			config:  "[profile p]\naws_access_key_id = AKIABASE\n",
			wantErr: "partial credentials"},
		{name: "bad duration",
			config:  "[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\nduration_seconds = 60\n[profile b]\n" + baseKeys,
			wantErr: "duration_seconds"},
		{name: "source_profile without role_arn",
			config:  "[profile p]\nsource_profile = b\n[profile b]\n" + baseKeys,
			wantErr: "without role_arn"},
		{name: "unknown credential_source",
			config:  "[profile p]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Mainframe\n",
			wantErr: `credential_source "Mainframe"`},
		{name: "mfa without a code function",
			config:  "[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\nmfa_serial = arn:aws:iam::1:mfa/me\n[profile b]\n" + baseKeys,
			wantErr: "mfa_serial arn:aws:iam::1:mfa/me, and no MFA code function is set"},
		{name: "sso without a login fails, not skipped",
			config:  "[profile p]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
			wantErr: "run `aws sso login --profile p`"},
		{name: "profile default overrides default",
			config:      "[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\n[profile default]\nrole_arn = arn:aws:iam::1:role/d\nsource_profile = b\n[profile b]\n" + baseKeys + "[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = default\n",
			wantSigners: []string{"AKIABASE", "ASIA1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			sts := newSTS(t)
			e["AWS_PROFILE"], e["AWS_REGION"], e["AWS_ENDPOINT_URL_STS"] = "p", "us-east-1", sts.URL
			e.write(t, "config", tc.config)
			c, err := chain(t, e)
			if err == nil && tc.wantErr != "" {
				_, err = c.Retrieve(context.Background())
			}
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.Empty(t, sts.recorded(), "no request")
				return
			}
			require.NoError(t, err)
			_, err = c.Retrieve(context.Background())
			require.NoError(t, err)
			var signers []string
			for _, call := range sts.recorded() {
				require.Equal(t, "AssumeRole", call.Action)
				signers = append(signers, call.SignedBy)
			}
			require.Equal(t, tc.wantSigners, signers)
		})
	}
}

// Shared files: a loose mode is warned about (path and mode, no content);
// no HOME means no files, never ./.aws under the working directory.
func TestSharedFileLocation(t *testing.T) {
	t.Run("loose mode warned", func(t *testing.T) {
		e := newEnv(t)
		e.write(t, "credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = TOPSECRETFILE\n")
		p := filepath.Join(e["HOME"], ".aws", "credentials")
		require.NoError(t, os.Chmod(p, 0o644))
		var logged strings.Builder
		c, err := awscred.NewChain(&awscred.Options{Getenv: e.get, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		require.NoError(t, err)
		creds, err := c.Retrieve(context.Background())
		require.NoError(t, err)
		require.Equal(t, "AKIAFILE", creds.AccessKeyID, "still used")
		require.Contains(t, logged.String(), "readable by group or others")
		require.Contains(t, logged.String(), p)
		require.NotContains(t, logged.String(), "TOPSECRETFILE")

		logged.Reset()
		require.NoError(t, os.Chmod(p, 0o600))
		_, err = awscred.NewChain(&awscred.Options{Getenv: e.get, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		require.NoError(t, err)
		require.Empty(t, logged.String())
	})
	t.Run("no HOME reads no file", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(dir, ".aws"), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".aws", "credentials"), []byte("[default]\naws_access_key_id = AKIACWD\naws_secret_access_key = s\n"), 0o600))
		t.Chdir(dir)
		e := env{"AWS_EC2_METADATA_DISABLED": "true"}
		_, err := chain(t, e)
		var nce *auth.NoCredentialsError
		require.ErrorAs(t, err, &nce, "the working directory's .aws is not read")
		e["AWS_PROFILE"] = "x"
		_, err = chain(t, e)
		require.ErrorContains(t, err, "HOME is not set")
	})
}
