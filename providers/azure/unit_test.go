package azure

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

func TestMetadataNames(t *testing.T) {
	for _, k := range []string{"plain", "with-dash", "under_core", "a-_-b", "x__y", "h", "_h"} {
		n := metaName(k)
		require.NotContains(t, n, "-", "C# identifiers have no '-'")
		back, ok := metaKey(n)
		require.True(t, ok)
		require.Equal(t, k, back)
	}
	_, ok := metaKey("set_by_other_tool")
	require.False(t, ok, "a name metaName cannot make is reported")
}

func TestMetadataValues(t *testing.T) {
	md := map[string]string{"a": "plain", "b": "", "c": "  spaced ", "d": "héllo", "e": "=?looks?like=", "f": "tab\tin"}
	enc, err := encodeMetadata(md)
	require.NoError(t, err)
	for _, v := range enc {
		for i := 0; i < len(*v); i++ {
			require.True(t, (*v)[i] >= 0x20 && (*v)[i] < 0x7f, "stored values are printable ASCII: %q", *v)
		}
		require.Equal(t, strings.TrimSpace(*v), *v)
		require.NotEmpty(t, *v)
	}
	dec, err := decodeMetadata(enc)
	require.NoError(t, err)
	require.Equal(t, md, dec)
}

func TestStoredNamesKeepOrder(t *testing.T) {
	keys := []string{`a`, `a\`, `a\b`, `a]`, `a]]`, `a]A`, `a[`, `a^`, `a/`, `a0`, `aZ`, `a\\`, `]`, `\`}
	for _, k := range keys {
		require.Equal(t, k, keyOf(stored(k)))
		require.NotContains(t, stored(k), `\`)
	}
	byKey := slices.Clone(keys)
	sort.Strings(byKey)
	byStored := slices.Clone(keys)
	sort.Slice(byStored, func(i, j int) bool { return stored(byStored[i]) < stored(byStored[j]) })
	require.Equal(t, byKey, byStored, "stored names sort as the keys do")
	require.True(t, strings.HasPrefix(stored(`a\b]c`), stored(`a\b`)), "prefixes are kept")
}

func TestMapError(t *testing.T) {
	mk := func(status int, code string) error {
		return &azcore.ResponseError{StatusCode: status, ErrorCode: code, RawResponse: &http.Response{Header: http.Header{"X-Ms-Request-Id": {"req-1"}}}}
	}
	tests := []struct {
		err  error
		kind error
	}{
		{mk(404, "BlobNotFound"), blob.ErrNotFound},
		{mk(404, "ContainerNotFound"), blob.ErrNotFound},
		{mk(412, "ConditionNotMet"), blob.ErrPreconditionFailed},
		{mk(409, "BlobAlreadyExists"), blob.ErrPreconditionFailed},
		{mk(412, "TargetConditionNotMet"), blob.ErrPreconditionFailed},
		{mk(403, "AuthorizationFailure"), blob.ErrPermissionDenied},
		{mk(403, "AuthorizationPermissionMismatch"), blob.ErrPermissionDenied},
		{mk(403, "AuthenticationFailed"), blob.ErrUnauthenticated},
		{mk(503, "ServerBusy"), blob.ErrThrottled},
		{mk(500, "InternalError"), blob.ErrInternal},
		{mk(429, "SomethingNew"), blob.ErrThrottled},
		{errors.New("dial tcp: refused"), blob.ErrInternal},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			d := errorDetail(tt.err)
			if tt.kind == blob.ErrInternal {
				require.Contains(t, []error{nil, blob.ErrInternal}, d.Kind)
			} else {
				require.Equal(t, tt.kind, d.Kind)
			}
			var re *azcore.ResponseError
			if errors.As(tt.err, &re) {
				require.Equal(t, re.ErrorCode, d.Code)
				require.Equal(t, "req-1", d.RequestID)
				require.NotContains(t, d.Message, "\n")
			}
		})
	}
}

func TestFromURLAndConnectionStrings(t *testing.T) {
	env := map[string]string{"AZURE_STORAGE_ACCOUNT": "acct", "AZURE_STORAGE_KEY": "a2V5"}
	u, _ := url.Parse("azblob://photos?endpoint=http://127.0.0.1:10000/devstoreaccount1")
	name, opts, err := FromURL(u, func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, "photos", name)
	require.Equal(t, Options{ServiceURL: "http://127.0.0.1:10000/devstoreaccount1", Account: "acct", SharedKey: "a2V5"}, opts)

	for _, bad := range []string{"azblob://", "azblob://c/path", "azblob://c?region=x"} {
		u, _ := url.Parse(bad)
		_, _, err := FromURL(u, func(string) string { return "" })
		require.ErrorIs(t, err, blob.ErrInvalidArgument, bad)
	}

	cs, err := parseConnectionString("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net")
	require.NoError(t, err)
	require.Equal(t, connString{account: "acct", key: "c2VjcmV0", serviceURL: "https://acct.blob.core.windows.net"}, cs)
	cs, err = parseConnectionString("BlobEndpoint=https://x.example/;SharedAccessSignature=sv=1&sig=TOPSECRET")
	require.NoError(t, err)
	require.Equal(t, "sv=1&sig=TOPSECRET", cs.sas)
	for _, bad := range []string{"AccountName=acct", "AccountKey=TOPSECRET", "garbage TOPSECRET"} {
		_, err := parseConnectionString(bad)
		require.ErrorIs(t, err, blob.ErrInvalidArgument, bad)
		require.NotContains(t, err.Error(), "TOPSECRET")
	}
}
