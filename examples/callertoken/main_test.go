package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPrintsTokens(t *testing.T) {
	env := map[string]string{"HOME": t.TempDir(), "AWS_ACCESS_KEY_ID": "AKIATOKEN", "AWS_SECRET_ACCESS_KEY": "TOPSECRET", "AWS_REGION": "eu-west-1", "AWS_EC2_METADATA_DISABLED": "true"}
	get := func(k string) string { return env[k] }

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-gcp", "//iam.googleapis.com/projects/1/x"}, get, &out))
	raw, err := url.QueryUnescape(strings.TrimSpace(out.String()))
	require.NoError(t, err)
	require.Contains(t, raw, `"url":"https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity`)
	require.Contains(t, raw, "AKIATOKEN")
	require.NotContains(t, raw, "TOPSECRET")

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"-vault", "vault.example.com"}, get, &out))
	var login map[string]string
	require.NoError(t, json.Unmarshal(out.Bytes(), &login))
	require.Equal(t, "POST", login["iam_http_request_method"])
	require.Len(t, login, 4)

	require.Error(t, run(context.Background(), nil, get, &out), "one of -gcp and -vault is needed")
}
