package azure_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/azurecred"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
	"github.com/anyblob/anyblob/providers/azure"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// the files and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// storageToken is a JWT with the claims Azurite's --oauth basic checks
// (issuer, audience, times); Azurite does not check its signature.
func storageToken(t *testing.T) string {
	enc := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now().Unix()
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(map[string]any{
		"aud": "https://storage.azure.com", "iss": "https://sts.windows.net/ab1f708d-50f6-404c-a006-d71b2ac7a606/",
		"iat": now - 60, "nbf": now - 60, "exp": now + 3600, "oid": "00000000-0000-0000-0000-000000000001",
		"tid": "ab1f708d-50f6-404c-a006-d71b2ac7a606",
	}) + ".c2lnbmF0dXJl"
}

// appServiceIdentity is a fake App Service managed-identity endpoint: it
// answers GET ?resource=... with token when the X-IDENTITY-HEADER matches.
func appServiceIdentity(t *testing.T, header, token string) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-IDENTITY-HEADER") != header {
			http.Error(w, "bad identity header", http.StatusUnauthorized)
			return
		}
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"expires_on":"%d","resource":%q,"token_type":"Bearer","client_id":"test-client"}`,
			token, time.Now().Add(time.Hour).Unix(), r.URL.Query().Get("resource"))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// isolateAzure keeps the chain away from real identities: no service
// principal, no workload identity; the tests set a loopback identity
// endpoint, so the CLI (last in the chain) is never reached.
func isolateAzure(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
		"AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "AZURE_STORAGE_KEY",
		"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_SAS_TOKEN"} {
		t.Setenv(k, "")
	}
}

func TestManagedIdentityAgainstAzuriteOAuth(t *testing.T) {
	isolateAzure(t)
	token := storageToken(t)
	idSrv, calls := appServiceIdentity(t, "identity-secret", token)
	t.Setenv("IDENTITY_ENDPOINT", idSrv.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", "identity-secret")

	certFile, keyFile, pool := selfSigned(t)
	az := emulator.Azurite(t, &emulator.AzuriteOptions{OAuth: true, CertFile: certFile, KeyFile: keyFile})
	trusting := &http.Client{Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: pool}}}
	co := &service.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: trusting}}

	chain, err := azurecred.NewChain(&azurecred.Options{DisableCLI: true})
	require.NoError(t, err)
	admin, err := azure.New(context.Background(), azure.Options{ServiceURL: az.BlobEndpoint, Credential: chain, ClientOptions: co})
	require.NoError(t, err)
	require.NoError(t, admin.CreateContainer(context.Background(), "mi-test"), "Azurite accepts the managed identity's token")
	used, ok := chain.Report().Used()
	require.True(t, ok)
	require.Equal(t, "managed identity", used.Source)

	b, err := azure.OpenBucket(context.Background(), "mi-test", azure.Options{ServiceURL: az.BlobEndpoint, Account: az.Account, ClientOptions: co})
	require.NoError(t, err, "no key, no SAS: the driver takes the Azure chain")
	ctx := context.Background()
	require.NoError(t, blob.WriteAll(ctx, b, "hello.txt", []byte("via managed identity"), nil))
	got, err := blob.ReadAll(ctx, b, "hello.txt")
	require.NoError(t, err)
	require.Equal(t, "via managed identity", string(got))
	require.GreaterOrEqual(t, calls.Load(), int64(1))

	// Without a token, Azurite refuses: the token is what let us in.
	resp, err := trusting.Get(az.BlobEndpoint + "/mi-test/hello.txt")
	require.NoError(t, err)
	resp.Body.Close()
	require.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, resp.StatusCode)
}
