package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/aws"
)

func TestQuickstartOnTheDefaultDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("CLOUD_PROVIDER", "")
	t.Setenv("CLOUD_BUCKET", "")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	require.Equal(t, expected, out.String())
	st, err := os.Stat(filepath.Join(dir, "anyblob-data"))
	require.NoError(t, err, "the default bucket is the local directory anyblob-data")
	require.True(t, st.IsDir())
}

// expected is the quickstart's output, the same on every backend.
const expected = `wrote 4 objects
create-only write of an existing key: precondition failed, as it should
listing quickstart/ with delimiter /:
  quickstart/data/ (prefix)
  quickstart/hello.txt (15 bytes)
  quickstart/notes/ (prefix)
read quickstart/hello.txt: "hello, anyblob\n" (text/plain; charset=utf-8, written-by=quickstart)
deleted 4 objects
`

func TestQuickstartInMemory(t *testing.T) {
	t.Setenv("CLOUD_PROVIDER", "mem")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	require.Equal(t, expected, out.String())
}

// TestQuickstartOnMinIO runs the same program on S3 (a local MinIO), chosen
// by the environment alone.
func TestQuickstartOnMinIO(t *testing.T) {
	s := emulator.MinIO(t)
	c, err := aws.New(context.Background(), aws.Options{
		Region: s.Region, Endpoint: s.Endpoint,
		Credentials: sigv4.StaticCredentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey},
	})
	require.NoError(t, err)
	require.NoError(t, c.CreateBucket(context.Background(), "quickstart"))

	for k, v := range map[string]string{
		"CLOUD_PROVIDER": "aws", "CLOUD_BUCKET": "quickstart",
		"AWS_ENDPOINT_URL_S3": s.Endpoint, "AWS_REGION": s.Region,
		"AWS_ACCESS_KEY_ID": s.AccessKey, "AWS_SECRET_ACCESS_KEY": s.SecretKey,
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "HOME": t.TempDir(), "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	require.Equal(t, expected, out.String())
}

// TestQuickstartOnFakeGCS runs the same program on GCS (a local
// fake-gcs-server), chosen by CLOUD_PROVIDER=gcp and STORAGE_EMULATOR_HOST.
func TestQuickstartOnFakeGCS(t *testing.T) {
	s := emulator.FakeGCS(t, "quickstart")
	for k, v := range map[string]string{
		"CLOUD_PROVIDER": "gcp", "CLOUD_BUCKET": "quickstart", "STORAGE_EMULATOR_HOST": s.Host,
		"HOME": t.TempDir(), "GOOGLE_APPLICATION_CREDENTIALS": "", "GCE_METADATA_HOST": "127.0.0.1:1",
	} {
		t.Setenv(k, v)
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	require.Equal(t, expected, out.String())
}

// TestQuickstartOnAzurite runs the same program on Azure Blob (a local
// Azurite), chosen by CLOUD_PROVIDER=azure and the connection string.
func TestQuickstartOnAzurite(t *testing.T) {
	s := emulator.Azurite(t, nil)
	sc, err := service.NewClientFromConnectionString(s.ConnectionString, nil)
	require.NoError(t, err)
	_, err = sc.CreateContainer(context.Background(), "quickstart", nil)
	require.NoError(t, err)
	for k, v := range map[string]string{
		"CLOUD_PROVIDER": "azure", "CLOUD_BUCKET": "quickstart", "AZURE_STORAGE_CONNECTION_STRING": s.ConnectionString,
		"AZURE_STORAGE_KEY": "", "AZURE_STORAGE_SAS_TOKEN": "", "AZURE_STORAGE_ACCOUNT": "", "HOME": t.TempDir(),
	} {
		t.Setenv(k, v)
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	require.Equal(t, expected, out.String())
}
