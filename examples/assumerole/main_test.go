package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/aws"
)

// TestAssumeRoleThenList runs the example with a fake STS that checks the
// AssumeRole call is signed with the chain's keys and hands out the keys of
// a real MinIO, which the example then lists.
func TestAssumeRoleThenList(t *testing.T) {
	minio := emulator.MinIO(t)
	ctx := context.Background()
	admin, err := aws.New(context.Background(), aws.Options{Region: minio.Region, Endpoint: minio.Endpoint,
		Credentials: sigv4.StaticCredentials{AccessKeyID: minio.AccessKey, SecretAccessKey: minio.SecretKey}})
	require.NoError(t, err)
	require.NoError(t, admin.CreateBucket(ctx, "reports"))
	b, err := admin.Bucket("reports")
	require.NoError(t, err)
	require.NoError(t, blob.WriteAll(ctx, b, "q3.csv", []byte("a,b\n"), nil))

	verifier := &sigv4.Verifier{Service: "sts", Region: minio.Region, Credentials: func(_ context.Context, id string) (sigv4.Credentials, error) {
		return sigv4.Credentials{AccessKeyID: "AKIABASE", SecretAccessKey: "base-secret", Source: "test"}, nil
	}}
	var calls int
	sts := httptest.NewServer(verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		require.NoError(t, r.ParseForm())
		require.Equal(t, "AssumeRole", r.PostForm.Get("Action"))
		require.Equal(t, "arn:aws:iam::123456789012:role/reader", r.PostForm.Get("RoleArn"))
		fmt.Fprintf(w, `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken></SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/reader/anyblob-example</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`,
			minio.AccessKey, minio.SecretKey, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	})))
	defer sts.Close()

	env := map[string]string{"HOME": t.TempDir(), "AWS_ACCESS_KEY_ID": "AKIABASE", "AWS_SECRET_ACCESS_KEY": "base-secret", "AWS_EC2_METADATA_DISABLED": "true"}
	var out bytes.Buffer
	err = run(ctx, []string{"-role", "arn:aws:iam::123456789012:role/reader", "-bucket", "reports", "-region", minio.Region,
		"-sts-endpoint", sts.URL, "-allow-http", "-s3-endpoint", minio.Endpoint}, func(k string) string { return env[k] }, &out)
	require.NoError(t, err)
	require.Equal(t, 1, calls, "one signed AssumeRole the verifier accepted")
	require.Contains(t, out.String(), "assumed arn:aws:iam::123456789012:role/reader")
	require.NotContains(t, out.String(), minio.SecretKey, "the secret is redacted")
	require.True(t, strings.HasSuffix(out.String(), "         4 q3.csv\n"), out.String())
}
