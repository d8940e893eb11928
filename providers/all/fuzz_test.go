package all_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/providers/aws"
	"github.com/anyblob/anyblob/providers/azure"
	"github.com/anyblob/anyblob/providers/gcp"
)

// FuzzBucketURL feeds every cloud's URL reader any URL: it never panics;
// it either names the URL's host as the bucket, or fails with
// ErrInvalidArgument (a *blob.Error) that never quotes a secret the
// environment holds.
//
//	go test -run '^$' -fuzz FuzzBucketURL -fuzztime 2m ./providers/all
func FuzzBucketURL(f *testing.F) {
	for _, s := range []string{
		"s3://bucket?region=eu-west-1&endpoint=http://127.0.0.1:9000&use_path_style=true",
		"s3://b?escape_keys=maybe", "s3://b/path", "s3://", "s3://b?anonymous=true&region=",
		"azblob://container?account=a&endpoint=http://127.0.0.1:10000/devstoreaccount1",
		"gs://bucket?project=p&endpoint=http://127.0.0.1:4443/storage/v1/", "gs://b?unknown=1",
		"s3://user:pass@host?region=r", "gs://%zz",
	} {
		f.Add(s)
	}
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDFUZZ", "AWS_SECRET_ACCESS_KEY": "fuzz-secret-key", "AWS_REGION": "us-east-1",
		"AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent-fuzz-home",
		"AWS_CONFIG_FILE": "/nonexistent-fuzz-home/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent-fuzz-home/credentials",
		"AZURE_STORAGE_KEY": "ZnV6ei1henVyZS1rZXk=",
	}
	getenv := func(k string) string { return env[k] }
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		for scheme, from := range map[string]func(*url.URL) (string, error){
			"s3":     func(u *url.URL) (string, error) { n, _, err := aws.FromURL(u, getenv); return n, err },
			"azblob": func(u *url.URL) (string, error) { n, _, err := azure.FromURL(u, getenv); return n, err },
			"gs":     func(u *url.URL) (string, error) { n, _, err := gcp.FromURL(u, getenv); return n, err },
		} {
			v := *u
			v.Scheme = scheme
			name, err := from(&v)
			if err != nil {
				require.Equal(t, blob.ErrInvalidArgument, blob.KindOf(err), "%s: %v", scheme, err)
				for _, secret := range []string{"fuzz-secret-key", "ZnV6ei1henVyZS1rZXk="} {
					require.NotContains(t, err.Error(), secret)
				}
				continue
			}
			require.Equal(t, v.Host, name, scheme)
			require.NotEmpty(t, name)
		}
	})
}
