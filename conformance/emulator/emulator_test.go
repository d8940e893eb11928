package emulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := loopbackClient.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestMinIOAnswers(t *testing.T) {
	s := MinIO(t)
	require.True(t, strings.HasPrefix(s.Endpoint, "http://127.0.0.1:"), s.Endpoint)
	status, _ := get(t, s.Endpoint+"/minio/health/live")
	require.Equal(t, http.StatusOK, status)
	// An unsigned S3 call is answered by the S3 API with an S3 XML error.
	status, body := get(t, s.Endpoint+"/")
	require.Equal(t, http.StatusForbidden, status)
	require.Contains(t, body, "<Code>AccessDenied</Code>")
}

// TestMinIOTLSAnswers: the server answers over https with the
// certificate in CAFile, and a client that does not trust it is refused.
func TestMinIOTLSAnswers(t *testing.T) {
	s := MinIOTLS(t)
	require.True(t, strings.HasPrefix(s.Endpoint, "https://127.0.0.1:"), s.Endpoint)
	pem, err := os.ReadFile(s.CAFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	trusting := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := trusting.Get(s.Endpoint + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, string(body), "<Code>AccessDenied</Code>")
	_, err = (&http.Client{Timeout: 10 * time.Second}).Get(s.Endpoint + "/")
	require.ErrorContains(t, err, "certificate", "the system roots do not trust it")
}

func TestAzuriteAnswers(t *testing.T) {
	s := Azurite(t, nil)
	cred, err := azblob.NewSharedKeyCredential(s.Account, s.Key)
	require.NoError(t, err)
	c, err := azblob.NewClientWithSharedKeyCredential(s.BlobEndpoint+"/", cred, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.CreateContainer(ctx, "answers", nil)
	require.NoError(t, err)
	_, err = c.UploadBuffer(ctx, "answers", "k", []byte("hello"), nil)
	require.NoError(t, err)
	resp, err := c.DownloadStream(ctx, "answers", "k", nil)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, "hello", string(got))

	// The connection string reaches the same server.
	c2, err := azblob.NewClientFromConnectionString(s.ConnectionString, nil)
	require.NoError(t, err)
	_, err = c2.CreateContainer(ctx, "answers2", nil)
	require.NoError(t, err)
}

func TestFakeGCSAnswers(t *testing.T) {
	s := FakeGCS(t, "pre-made", "second")
	status, body := get(t, s.Endpoint+"/storage/v1/b")
	require.Equal(t, http.StatusOK, status)
	var list struct {
		Items []struct{ Name string } `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	var names []string
	for _, b := range list.Items {
		names = append(names, b.Name)
	}
	require.ElementsMatch(t, []string{"pre-made", "second"}, names)

	// A simple media upload through the JSON API, then a read.
	resp, err := loopbackClient.Post(s.Endpoint+"/upload/storage/v1/b/pre-made/o?uploadType=media&name=k",
		"text/plain", strings.NewReader("hello"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	status, body = get(t, s.Endpoint+"/storage/v1/b/pre-made/o/k?alt=media")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "hello", body)
}

func TestFindMissingNamesInstallCommand(t *testing.T) {
	t.Setenv("ANYBLOB_TOOLS", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	t.Chdir(t.TempDir())
	_, err := Find("minio")
	require.Error(t, err)
	require.Contains(t, err.Error(), "scripts/install-emulators.sh")
	require.Contains(t, err.Error(), "github.com/minio/minio@"+MinIOVersion)
}

func TestAzuriteOAuthNeedsCertificate(t *testing.T) {
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		Azurite(ft, &AzuriteOptions{OAuth: true})
	}()
	require.True(t, ft.failed)
	require.Contains(t, ft.msg, "CertFile")
}

// fatalRecorder records Fatal instead of ending the test.
type fatalRecorder struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fatalRecorder) Fatal(args ...any) {
	f.failed = true
	for _, a := range args {
		if s, ok := a.(string); ok {
			f.msg += s
		}
	}
	panic("fatal")
}
func (f *fatalRecorder) Helper() {}
