package emulator

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Azurite's well-known development account, documented by Microsoft for the
// emulator; it is not a secret.
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// AzuriteOptions changes how Azurite starts. nil means shared-key
// authentication over http.
type AzuriteOptions struct {
	// OAuth starts Azurite with "--oauth basic", which accepts bearer tokens
	// (checking their claims, not their signature) besides shared keys. It
	// needs https, so CertFile and KeyFile (PEM) are then required.
	OAuth bool
	// CertFile and KeyFile serve https when set.
	CertFile, KeyFile string
	// Loose starts Azurite with "--loose": it then ignores the headers it
	// does not implement (customer-provided keys, encryption scopes)
	// instead of refusing them with FeatureNotSupported.
	Loose bool
}

// AzuriteServer is a running Azurite blob service.
type AzuriteServer struct {
	// BlobEndpoint is "http(s)://127.0.0.1:PORT/devstoreaccount1".
	BlobEndpoint string
	// Account and Key are the well-known development account and key.
	Account, Key string
	// ConnectionString holds the account, key and endpoint.
	ConnectionString string
	// Dir is the server's workspace.
	Dir string
}

// Azurite starts Azurite's blob service with its own temporary workspace,
// waits until it answers, and stops it when t ends. A missing binary fails or
// skips t as the package doc says; OAuth without a certificate fails t.
func Azurite(t testing.TB, opts *AzuriteOptions) *AzuriteServer {
	t.Helper()
	if opts == nil {
		opts = &AzuriteOptions{}
	}
	if opts.OAuth && (opts.CertFile == "" || opts.KeyFile == "") {
		t.Fatal("emulator: Azurite with OAuth needs https: set AzuriteOptions.CertFile and KeyFile")
	}
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		t.Fatal("emulator: AzuriteOptions.CertFile and KeyFile go together")
	}
	bin := find(t, "azurite")
	s, args := azuriteCommand(opts, port(t), t.TempDir())
	scheme := "http"
	if opts.CertFile != "" {
		scheme = "https"
	}
	proc := start(t, "azurite", bin, args, nil)
	client := loopbackClient
	if scheme == "https" {
		// Only to see that the server answers; the tests' own clients trust
		// the certificate properly.
		client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			Proxy: nil, DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // readiness probe on loopback
		}}
	}
	// Any HTTP answer (403 without credentials) means the service is up.
	proc.waitReady(t, httpReady(client, s.BlobEndpoint+"?comp=list"))
	return s
}

// azuriteCommand is the server and command line of Azurite on port p with
// its workspace in dir.
func azuriteCommand(opts *AzuriteOptions, p int, dir string) (*AzuriteServer, []string) {
	scheme := "http"
	args := []string{
		"--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(p),
		"--location", dir, "--skipApiVersionCheck", "--disableTelemetry", "--silent",
	}
	if opts.CertFile != "" {
		scheme = "https"
		args = append(args, "--cert", opts.CertFile, "--key", opts.KeyFile)
	}
	if opts.OAuth {
		args = append(args, "--oauth", "basic")
	}
	if opts.Loose {
		args = append(args, "--loose")
	}
	s := &AzuriteServer{
		BlobEndpoint: fmt.Sprintf("%s://127.0.0.1:%d/%s", scheme, p, AzuriteAccount),
		Account:      AzuriteAccount,
		Key:          AzuriteKey,
		Dir:          dir,
	}
	s.ConnectionString = fmt.Sprintf("DefaultEndpointsProtocol=%s;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		scheme, s.Account, s.Key, s.BlobEndpoint)
	return s, args
}
