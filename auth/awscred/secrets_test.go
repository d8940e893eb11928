package awscred_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/awscred"
	"github.com/anyblob/anyblob/auth/sigv4"
)

func TestSecretsNeverPrinted(t *testing.T) {
	e := newEnv(t)
	e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"], e["AWS_SESSION_TOKEN"] = "AKIAENV", "TOPSECRET-KEY", "TOPSECRET-TOKEN"
	creds, c := retrieve(t, e)
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("creds", "c", creds)
	for _, s := range []string{fmt.Sprint(creds), fmt.Sprintf("%+v", creds), fmt.Sprintf("%#v", creds), creds.String(), logged.String(), c.Report().String()} {
		require.NotContains(t, s, "TOPSECRET")
	}
}

// TestNoTypePrintsASecret prints every credential-holding type of the
// package, after use, every way fmt and slog can.
func TestNoTypePrintsASecret(t *testing.T) {
	e := newEnv(t)
	e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"], e["AWS_SESSION_TOKEN"] = "AKIAENV", "TOPSECRET-KEY", "TOPSECRET-TOKEN"
	creds, c := retrieve(t, e)
	sts := newSTS(t)
	role, err := awscred.AssumeRole(c, awscred.AssumeRoleOptions{RoleARN: "arn:aws:iam::1:role/r", Endpoint: sts.URL, AllowHTTP: true})
	require.NoError(t, err)
	_, err = role.Retrieve(context.Background())
	require.NoError(t, err)
	static := sigv4.StaticCredentials(creds)
	for _, v := range []any{creds, &creds, static, c, role, c.Report()} {
		var logged strings.Builder
		slog.New(slog.NewTextHandler(&logged, nil)).Info("v", "v", v)
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("v", "v", v)
		for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), logged.String()} {
			require.NotContains(t, s, "TOPSECRET", "%T", v)
			require.NotContains(t, s, "secret-1", "%T: the assumed role's secret", v)
		}
	}
}

// TestSSOChainPrintsNoSecret prints an SSO chain, its credentials and its
// report, after a refresh, every way fmt and slog can.
func TestSSOChainPrintsNoSecret(t *testing.T) {
	f := newSSO(t, ssoAccount, ssoRole)
	f.expectRefresh("client-1", "CLIENTSECRET-1", "REFRESH-1")
	e := ssoEnv(t, f, "dev")
	e.writeSSOCache(t, "corp", sessionCache(time.Now().Add(-time.Hour)))
	creds, c := retrieve(t, e)
	for _, v := range []any{creds, &creds, c, c.Report()} {
		var logged strings.Builder
		slog.New(slog.NewTextHandler(&logged, nil)).Info("v", "v", v)
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("v", "v", v)
		requireNoSSOSecret(t, fmt.Sprint(v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), logged.String())
	}
}
