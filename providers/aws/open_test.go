package aws

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
)

func TestFromURL(t *testing.T) {
	keys := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "HOME": t.TempDir(), "AWS_EC2_METADATA_DISABLED": "true"}
	env := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return keys[k]
		}
	}
	tests := []struct {
		name     string
		url      string
		env      map[string]string
		region   string
		endpoint string
		path     bool
		esc      bool
		anon     bool
	}{
		{"query wins", "s3://bkt?region=eu-west-1&endpoint=http://127.0.0.1:9000&use_path_style=true&escape_keys=true", map[string]string{"AWS_REGION": "x", "AWS_ENDPOINT_URL_S3": "http://y"}, "eu-west-1", "http://127.0.0.1:9000", true, true, false},
		{"AWS_REGION and the S3 endpoint", "s3://bkt", map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "no", "AWS_ENDPOINT_URL_S3": "https://s3.example", "AWS_ENDPOINT_URL": "https://no"}, "us-west-2", "https://s3.example", false, false, false},
		{"AWS_DEFAULT_REGION and the general endpoint", "s3://bkt", map[string]string{"AWS_DEFAULT_REGION": "ap-south-1", "AWS_ENDPOINT_URL": "https://all.example"}, "ap-south-1", "https://all.example", false, false, false},
		{"endpoints ignored", "s3://bkt?region=r", map[string]string{"AWS_ENDPOINT_URL_S3": "https://s3.example", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "r", "", false, false, false},
		{"anonymous", "s3://bkt?region=r&anonymous=true", map[string]string{"AWS_ACCESS_KEY_ID": ""}, "r", "", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			require.NoError(t, err)
			name, o, err := FromURL(u, env(tt.env))
			require.NoError(t, err)
			require.Equal(t, "bkt", name)
			require.Equal(t, tt.region, o.Region)
			require.Equal(t, tt.endpoint, o.Endpoint)
			require.Equal(t, tt.path, o.UsePathStyle)
			require.Equal(t, tt.esc, o.EscapeKeys)
			require.Equal(t, tt.anon, o.Anonymous)
			if !tt.anon {
				creds, err := o.Credentials.Retrieve(context.Background())
				require.NoError(t, err)
				require.Equal(t, "AKID", creds.AccessKeyID)
			}
		})
	}

	bad := []struct{ url, want string }{
		{"s3://bkt?region=r&bogus=1", "unknown URL parameter"},
		{"s3://bkt?region=r&use_path_style=maybe", "not a boolean"},
		{"s3://bkt/some/path?region=r", "has a path"},
		{"s3://?region=r", "names no bucket"},
		{"s3://bkt", "no region"},
		{"s3://bkt?region=r&use_path_style=1&anonymous=maybe", "not a boolean"},
	}
	for _, tt := range bad {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			require.NoError(t, err)
			_, _, err = FromURL(u, env(nil))
			require.ErrorIs(t, err, blob.ErrInvalidArgument)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestOpenBucketURL(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	_, name := newBucket(t, c)
	t.Setenv("AWS_ACCESS_KEY_ID", ep.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", ep.SecretKey)
	t.Setenv("AWS_REGION", ep.Region)
	t.Setenv("AWS_ENDPOINT_URL_S3", ep.Endpoint)
	ctx := context.Background()

	b, err := blob.OpenBucket(ctx, "s3://"+name)
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, blob.WriteAll(ctx, b, "via-url", []byte("ok"), nil))
	var client *Client
	require.True(t, blob.As(b, &client), "blob.As reaches *aws.Client")
	require.Equal(t, ep.Region, client.Region())
	resp, err := client.Do(ctx, &Request{Method: "GET", Bucket: name, Key: "via-url"})
	require.NoError(t, err)
	resp.Body.Close()

	t.Setenv("CLOUD_PROVIDER", "aws")
	t.Setenv("CLOUD_BUCKET", name)
	eb, err := blob.OpenFromEnv(ctx)
	require.NoError(t, err)
	defer eb.Close()
	got, err := blob.ReadAll(ctx, eb, "via-url")
	require.NoError(t, err)
	require.Equal(t, "ok", string(got))

	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
	wb, err := blob.OpenBucket(ctx, "s3://"+name)
	require.NoError(t, err)
	_, err = wb.Attributes(ctx, "via-url")
	require.ErrorIs(t, err, blob.ErrUnauthenticated)
	require.NotContains(t, err.Error(), "wrong-secret")
	_, err = blob.ReadAll(ctx, wb, "via-url")
	require.ErrorIs(t, err, blob.ErrUnauthenticated)
	var be *blob.Error
	require.ErrorAs(t, err, &be)
	require.Equal(t, "SignatureDoesNotMatch", be.Code)
}

func TestFromURLChain(t *testing.T) {
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".aws"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "config"), []byte("[default]\nregion = eu-north-1\nendpoint_url = http://127.0.0.1:9999\n[profile dev]\nregion = ap-east-1\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n[dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = devsecret\n"), 0o600))
	base := map[string]string{"HOME": home, "AWS_EC2_METADATA_DISABLED": "true"}
	env := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		}
	}
	u, err := url.Parse("s3://bkt")
	require.NoError(t, err)

	tests := []struct {
		name, region, endpoint, key string
		env                         map[string]string
	}{
		{"default profile", "eu-north-1", "http://127.0.0.1:9999", "FILEKEY", nil},
		{"named profile", "ap-east-1", "", "DEVKEY", map[string]string{"AWS_PROFILE": "dev"}},
		{"environment beats the files", "us-west-1", "http://127.0.0.1:9999", "ENVKEY", map[string]string{"AWS_REGION": "us-west-1", "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, o, err := FromURL(u, env(tt.env))
			require.NoError(t, err)
			require.Equal(t, tt.region, o.Region)
			require.Equal(t, tt.endpoint, o.Endpoint)
			creds, err := o.Credentials.Retrieve(context.Background())
			require.NoError(t, err)
			require.Equal(t, tt.key, creds.AccessKeyID)
		})
	}
	t.Run("missing profile", func(t *testing.T) {
		_, _, err := FromURL(u, env(map[string]string{"AWS_PROFILE": "nope"}))
		require.ErrorIs(t, err, blob.ErrInvalidArgument)
		require.Contains(t, err.Error(), "nope")
	})
	t.Run("no credentials anywhere", func(t *testing.T) {
		empty := func(k string) string {
			return map[string]string{"HOME": t.TempDir(), "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "r"}[k]
		}
		_, _, err := FromURL(u, empty)
		require.ErrorIs(t, err, blob.ErrUnauthenticated)
		require.Contains(t, err.Error(), "anonymous=true")
		au, err := url.Parse("s3://bkt?anonymous=true")
		require.NoError(t, err)
		_, o, err := FromURL(au, empty)
		require.NoError(t, err)
		require.True(t, o.Anonymous)
		require.Equal(t, "r", o.Region)
	})
	t.Run("secrets stay out of errors", func(t *testing.T) {
		_, _, err := FromURL(u, env(map[string]string{"AWS_PROFILE": "nope", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_ACCESS_KEY_ID": "ENVKEY"}))
		require.Error(t, err)
		require.NotContains(t, err.Error(), "envsecret")
		require.NotContains(t, err.Error(), "filesecret")
	})
}
