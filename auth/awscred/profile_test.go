package awscred_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
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
		{name: "mfa is refused",
			config:  "[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\nmfa_serial = arn:aws:iam::1:mfa/me\n[profile b]\n" + baseKeys,
			wantErr: "mfa_serial"},
		{name: "sso is refused, not skipped",
			config:  "[profile p]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n",
			wantErr: "IAM Identity Center (SSO)"},
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
