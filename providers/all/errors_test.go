package all_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/anyblob/anyblob/auth"
	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/aws"
	"github.com/anyblob/anyblob/providers/azure"
	"github.com/anyblob/anyblob/providers/gcp"
)

// noCredentials is what a credential chain that found nothing returns.
var noCredentials = &auth.NoCredentialsError{Report: auth.Report{Chain: "test"}}

// failingSource is an AWS credential source that found nothing.
type failingSource struct{}

func (failingSource) Retrieve(context.Context) (sigv4.Credentials, error) {
	return sigv4.Credentials{}, noCredentials
}

// failingToken is an Azure credential that found nothing.
type failingToken struct{}

func (failingToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, noCredentials
}

// failingTokenSource is an oauth2 token source that found nothing.
type failingTokenSource struct{}

func (failingTokenSource) Token() (*oauth2.Token, error) { return nil, noCredentials }

// mistake is one user mistake on one backend: the bucket it is made on and
// the call that makes it.
type mistake struct {
	backend string
	open    func(t *testing.T) blob.Bucket
	call    func(ctx context.Context, b blob.Bucket) error
}

func attributes(key string) func(ctx context.Context, b blob.Bucket) error {
	return func(ctx context.Context, b blob.Bucket) error { _, err := b.Attributes(ctx, key); return err }
}

// TestSameMistakeSameSentinel makes the same mistakes on S3 (MinIO), Azure
// (Azurite) and GCS (fake-gcs-server), with the services' real answers (or
// the real credential failures), and requires the same sentinel from the
// shared layer on each, in a one-line message.
func TestSameMistakeSameSentinel(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx := context.Background()
	mc := emulator.MinIO(t)
	az := emulator.Azurite(t, nil)
	gs := emulator.FakeGCS(t, "bkt")

	s3Bucket := func(creds sigv4.CredentialsSource, anonymous bool) func(t *testing.T) blob.Bucket {
		return func(t *testing.T) blob.Bucket {
			c, err := aws.New(context.Background(), aws.Options{Region: mc.Region, Endpoint: mc.Endpoint, UsePathStyle: true, Credentials: creds, Anonymous: anonymous})
			require.NoError(t, err)
			b, err := c.Bucket("bkt")
			require.NoError(t, err)
			return b
		}
	}
	good := sigv4.StaticCredentials{AccessKeyID: mc.AccessKey, SecretAccessKey: mc.SecretKey}
	admin, err := aws.New(context.Background(), aws.Options{Region: mc.Region, Endpoint: mc.Endpoint, UsePathStyle: true, Credentials: good})
	require.NoError(t, err)
	require.NoError(t, admin.CreateBucket(ctx, "bkt"))

	azc, err := azure.New(ctx, azure.Options{ConnectionString: az.ConnectionString})
	require.NoError(t, err)
	require.NoError(t, azc.CreateContainer(ctx, "bkt"))
	azBucket := func(opts azure.Options) func(t *testing.T) blob.Bucket {
		return func(t *testing.T) blob.Bucket {
			b, err := azure.OpenBucket(ctx, "bkt", opts)
			require.NoError(t, err)
			return b
		}
	}
	gsBucket := func(opts gcp.Options) func(t *testing.T) blob.Bucket {
		return func(t *testing.T) blob.Bucket {
			b, err := gcp.OpenBucket(ctx, "bkt", opts)
			require.NoError(t, err)
			return b
		}
	}
	gsPlain := gcp.Options{Endpoint: gs.Endpoint, Anonymous: true}
	wrongKey := base64.StdEncoding.EncodeToString([]byte("not the account key"))

	tests := []struct {
		name     string
		want     error
		mistakes []mistake
		lacks    map[string]string // backend: why it cannot make this mistake
	}{
		{"a missing object", blob.ErrNotFound, []mistake{
			{"s3", s3Bucket(good, false), attributes("missing")},
			{"azblob", azBucket(azure.Options{ConnectionString: az.ConnectionString}), attributes("missing")},
			{"gs", gsBucket(gsPlain), attributes("missing")},
		}, nil},
		{"a wrong key", blob.ErrUnauthenticated, []mistake{
			{"s3", s3Bucket(sigv4.StaticCredentials{AccessKeyID: mc.AccessKey, SecretAccessKey: "wrong"}, false), attributes("k")},
			{"s3 unknown key id", s3Bucket(sigv4.StaticCredentials{AccessKeyID: "nobody", SecretAccessKey: "wrong"}, false), attributes("k")},
			{"azblob", azBucket(azure.Options{ServiceURL: az.BlobEndpoint, Account: az.Account, SharedKey: wrongKey}), attributes("k")},
		}, map[string]string{"gs": "fake-gcs-server checks no credentials"}},
		{"no credentials at all", blob.ErrUnauthenticated, []mistake{
			{"s3 chain found none", s3Bucket(failingSource{}, false), attributes("k")},
			{"s3 anonymous", s3Bucket(nil, true), attributes("k")},
			{"azblob chain found none", azBucket(azure.Options{ServiceURL: "https://127.0.0.1:1/devstoreaccount1", Credential: failingToken{}}), attributes("k")},
			{"gs chain found none", gsBucket(gcp.Options{Endpoint: gs.Endpoint, AllowInsecureCredentials: true,
				Credentials: &google.Credentials{TokenSource: failingTokenSource{}}}), attributes("k")},
		}, nil},
		{"a key the backend cannot store", blob.ErrInvalidArgument, []mistake{
			{"s3", s3Bucket(good, false), func(ctx context.Context, b blob.Bucket) error {
				return blob.WriteAll(ctx, b, "e//f", []byte("x"), nil)
			}},
		}, map[string]string{"azblob": "Azurite stores every valid key", "gs": "fake-gcs-server stores every valid key"}},
		{"a lost IfNotExist", blob.ErrPreconditionFailed, []mistake{
			{"s3", s3Bucket(good, false), twiceIfNotExist},
			{"azblob", azBucket(azure.Options{ConnectionString: az.ConnectionString}), twiceIfNotExist},
			{"gs", gsBucket(gsPlain), twiceIfNotExist},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for backend, why := range tt.lacks {
				t.Logf("%s cannot make this mistake here: %s", backend, why)
			}
			for _, m := range tt.mistakes {
				t.Run(m.backend, func(t *testing.T) {
					b := m.open(t)
					defer b.Close()
					cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					defer cancel()
					err := m.call(cctx, b)
					require.Error(t, err)
					require.Equal(t, tt.want, blob.KindOf(err), "%s: %v", m.backend, err)
					var be *blob.Error
					require.True(t, errors.As(err, &be), "a *blob.Error: %v", err)
					require.NotContains(t, err.Error(), "\n", "one line")
					require.Equal(t, 1, strings.Count(err.Error(), "blob: "), "wrapped once: %v", err)
				})
			}
		})
	}
}

// twiceIfNotExist writes one key twice with IfNotExist: the second loses.
func twiceIfNotExist(ctx context.Context, b blob.Bucket) error {
	opts := &blob.WriterOptions{IfNotExist: true}
	if err := blob.WriteAll(ctx, b, "once", []byte("1"), opts); err != nil {
		return errors.New("the first write failed: " + err.Error())
	}
	return blob.WriteAll(ctx, b, "once", []byte("2"), opts)
}
