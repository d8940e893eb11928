package azure

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// FuzzMetadata: any metadata the portable rules accept comes back from
// Azure's encoding exactly, and decoding whatever the service sends (a
// value written by another tool) never panics and fails only with
// ErrInternal.
//
//	go test -run '^$' -fuzz FuzzMetadata -fuzztime 2m ./providers/azure
func FuzzMetadata(f *testing.F) {
	for _, s := range [][2]string{
		{"color", "blue"}, {"Name", "héllo wörld"}, {"k", ""}, {"k", " lead"}, {"k", "trail "},
		{"k", "=?UTF-8?B??="}, {"k", "=?utf-8?q?x?="}, {"k", "a\nb"}, {"a_b-c", "日本語"}, {"k", "=?"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		// Whatever the service holds decodes or fails cleanly.
		stored := v
		got, err := decodeMetadata(map[string]*string{metaName(k): &stored})
		if err != nil {
			require.Equal(t, blob.ErrInternal, blob.KindOf(err))
		} else {
			require.Len(t, got, 1)
		}

		md, err := blob.ValidateMetadata(map[string]string{k: v})
		if err != nil {
			return
		}
		enc, err := encodeMetadata(md)
		require.NoError(t, err, "metadata the rules accept is always stored")
		back, err := decodeMetadata(enc)
		require.NoError(t, err)
		require.Equal(t, md, back, "metadata round-trips exactly")
	})
}
