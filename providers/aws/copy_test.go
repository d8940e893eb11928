package aws

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
)

func TestCopy(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	// Sources over 6 MiB take UploadPartCopy in 5 MiB parts, as sources
	// over 5 GiB do with the defaults.
	c.copyThreshold, c.copyPartSize = 6<<20, MinPartSize
	b, name := newBucket(t, c)
	ctx := context.Background()
	small := []byte("small source")
	large := pattern(13<<20+5, 4)
	src := &blob.WriterOptions{ContentType: "text/x-src", CacheControl: "no-cache", Metadata: map[string]string{"from": "src", "u": "ñ"}}
	require.NoError(t, blob.WriteAll(ctx, b, "small", small, src))
	require.NoError(t, blob.WriteAll(ctx, b, "large", large, src))

	tests := []struct {
		name     string
		src      string
		opts     *blob.CopyOptions
		wantType string
		wantMeta map[string]string
	}{
		{"small keeps headers", "small", nil, "text/x-src", map[string]string{"from": "src", "u": "ñ"}},
		{"small replaces metadata", "small", &blob.CopyOptions{Metadata: map[string]string{"new": "é"}}, "text/x-src", map[string]string{"new": "é"}},
		{"small replaces type only", "small", &blob.CopyOptions{ContentType: "text/plain"}, "text/plain", map[string]string{"from": "src", "u": "ñ"}},
		{"large by parts keeps headers", "large", nil, "text/x-src", map[string]string{"from": "src", "u": "ñ"}},
		{"large by parts replaces", "large", &blob.CopyOptions{ContentType: "a/b", Metadata: map[string]string{}}, "a/b", map[string]string{}},
		{"IfNotExist on a new key", "small", &blob.CopyOptions{IfNotExist: true}, "text/x-src", map[string]string{"from": "src", "u": "ñ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := "dst/" + tt.name
			require.NoError(t, b.Copy(ctx, dst, tt.src, tt.opts))
			want, err := blob.ReadAll(ctx, b, tt.src)
			require.NoError(t, err)
			got, err := blob.ReadAll(ctx, b, dst)
			require.NoError(t, err)
			require.True(t, bytes.Equal(want, got))
			a, err := b.Attributes(ctx, dst)
			require.NoError(t, err)
			require.Equal(t, tt.wantType, a.ContentType)
			require.Equal(t, "no-cache", a.CacheControl)
			require.Equal(t, tt.wantMeta, a.Metadata)
		})
	}
	t.Run("IfNotExist on an existing key", func(t *testing.T) {
		require.NoError(t, blob.WriteAll(ctx, b, "exists", []byte("keep"), nil))
		err := b.Copy(ctx, "exists", "large", &blob.CopyOptions{IfNotExist: true})
		require.ErrorIs(t, err, blob.ErrPreconditionFailed)
		got, err := blob.ReadAll(ctx, b, "exists")
		require.NoError(t, err)
		require.Equal(t, "keep", string(got))
		requireNoUploads(t, c, name)
	})
	t.Run("absent source", func(t *testing.T) {
		require.ErrorIs(t, b.Copy(ctx, "x", "absent", nil), blob.ErrNotFound)
	})
}
