package awscred

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseINI feeds parseINI any shared config or credentials file: it
// must never panic, and what it returns keeps the file's shape: section
// names and keys trimmed, keys lower-cased, every section a non-nil map.
// Error messages name a line, never quote it (a line may hold a secret).
//
//	go test -run '^$' -fuzz FuzzParseINI -fuzztime 2m ./auth/awscred
func FuzzParseINI(f *testing.F) {
	for _, s := range []string{
		"[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\n",
		"[profile dev]\nrole_arn=arn:aws:iam::1:role/r\nsource_profile = default\n",
		"[services s]\ns3 =\n  endpoint_url = http://127.0.0.1:9000\n",
		"[sso-session s]\nsso_start_url = https://x\n; comment\n# comment\n",
		"key = before any section\n", "[unclosed\n", "[a]\nno equals sign\n",
		"[a]\nk = v\n  continued\n", "[ spaced ]\n  K  =  V  \n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		out, err := parseINI(data)
		if err != nil {
			require.Nil(t, out)
			require.True(t, strings.HasPrefix(err.Error(), "line ") || strings.Contains(err.Error(), "token too long"), err.Error())
			for _, secret := range []string{"SECRET", "AKID"} {
				if strings.Contains(data, secret) {
					require.NotContains(t, err.Error(), secret, "a parse error never quotes the file")
				}
			}
			return
		}
		for name, sec := range out {
			require.Equal(t, strings.TrimSpace(name), name)
			require.NotNil(t, sec)
			for k := range sec {
				require.Equal(t, strings.ToLower(k), k)
				require.Equal(t, strings.TrimSpace(k), k)
			}
		}
	})
}
