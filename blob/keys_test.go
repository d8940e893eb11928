package blob

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateKey(t *testing.T) {
	valid := []string{"a", "a//b", "../x", "./a", "..", ".", "sp ace", "é", "100%", "+", "a?b#c", "trailing.", "trailing/", "/leading",
		strings.Repeat("k", MaxKeyLen), strings.Repeat("é", MaxKeyLen/2)}
	for _, k := range valid {
		require.NoError(t, ValidateKey(k), "key %q", k)
	}
	invalid := map[string]string{
		"":                                 "empty",
		strings.Repeat("k", MaxKeyLen+1):   "more than the 1024",
		"bad\xffutf8":                      "not valid UTF-8",
		"nul\x00inside":                    "NUL",
		strings.Repeat("é", MaxKeyLen/2+1): "more than the 1024",
	}
	for k, want := range invalid {
		err := ValidateKey(k)
		requireOnlyKind(t, err, ErrInvalidArgument)
		require.Contains(t, err.Error(), want)
	}
}

func TestValidateMetadata(t *testing.T) {
	md, err := ValidateMetadata(map[string]string{"Color": "blue", "x-Trace_id": "é ü 😀", "a1": ""})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"color": "blue", "x-trace_id": "é ü 😀", "a1": ""}, md)

	md, err = ValidateMetadata(nil)
	require.NoError(t, err)
	require.Nil(t, md)

	bad := []map[string]string{
		{"": "v"},
		{"1abc": "v"},
		{"-abc": "v"},
		{"has space": "v"},
		{"dot.ted": "v"},
		{"ünï": "v"},
		{strings.Repeat("a", MaxMetadataKeyLen+1): "v"},
		{"k": "bad\xff"},
		{"Dup": "1", "dup": "2"},
	}
	for _, m := range bad {
		_, err := ValidateMetadata(m)
		requireOnlyKind(t, err, ErrInvalidArgument)
	}
}
