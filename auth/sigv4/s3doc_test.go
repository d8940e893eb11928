package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type s3DocFile struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	} `json:"credentials"`
	Region  string `json:"region"`
	Service string `json:"service"`
	Date    string `json:"x_amz_date"`
	Cases   []struct {
		Name           string            `json:"name"`
		Mode           string            `json:"mode"`
		Method         string            `json:"method"`
		Host           string            `json:"host"`
		Key            string            `json:"key"`
		CanonicalURI   string            `json:"canonical_uri"`
		Query          string            `json:"query"`
		CanonicalQuery string            `json:"canonical_query"`
		Headers        map[string]string `json:"headers"`
		Body           string            `json:"body"`
		PayloadHash    string            `json:"payload_hash"`
		SignedHeaders  string            `json:"signed_headers"`
		CRHash         string            `json:"canonical_request_sha256"`
		STSLastLine    string            `json:"string_to_sign_last_line"`
		Expires        int               `json:"expires"`
		URL            string            `json:"url"`
		Signature      string            `json:"signature"`
	} `json:"cases"`
}

func TestS3DocExamples(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(suiteDir(t), "s3-doc-examples.json"))
	require.NoError(t, err)
	var f s3DocFile
	require.NoError(t, json.Unmarshal(raw, &f))
	require.Len(t, f.Cases, 5)
	at, err := time.Parse("20060102T150405Z", f.Date)
	require.NoError(t, err)
	creds := Credentials{AccessKeyID: f.Credentials.AccessKeyID, SecretAccessKey: f.Credentials.SecretAccessKey}
	s := &Signer{Service: f.Service, Region: f.Region}

	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			u := &url.URL{Scheme: "https", Host: c.Host, Path: "/" + c.Key, RawQuery: c.Query}
			req, err := http.NewRequest(c.Method, u.String(), strings.NewReader(c.Body))
			require.NoError(t, err)
			for k, v := range c.Headers {
				req.Header.Set(k, v)
			}
			if c.Body != "" {
				sum := sha256.Sum256([]byte(c.Body))
				require.Equal(t, c.PayloadHash, hex.EncodeToString(sum[:]))
			}
			var tr trace
			switch c.Mode {
			case "header":
				sig, err := s.sign(req, &creds, c.PayloadHash, at, &tr)
				require.NoError(t, err)
				require.Equal(t, c.Signature, string(sig[:]))
				require.Equal(t, c.SignedHeaders, tr.signedHeaders)
				require.Equal(t, "AWS4-HMAC-SHA256 Credential="+creds.AccessKeyID+"/20130524/us-east-1/s3/aws4_request, SignedHeaders="+c.SignedHeaders+", Signature="+c.Signature, req.Header.Get("Authorization"))
			case "query":
				got, err := s.presign(req, &creds, c.PayloadHash, time.Duration(c.Expires)*time.Second, at, &tr)
				require.NoError(t, err)
				want, err := url.Parse(c.URL)
				require.NoError(t, err)
				require.Equal(t, want.Query(), got.Query())
				require.Equal(t, want.Host, got.Host)
				require.Equal(t, want.Path, got.Path)
				require.True(t, strings.HasSuffix(tr.stringToSign, "\n"+c.STSLastLine))
			default:
				t.Fatalf("unknown mode %q", c.Mode)
			}
			lines := strings.Split(tr.canonical, "\n")
			require.Equal(t, c.CanonicalURI, lines[1])
			if c.CanonicalQuery != "" {
				require.Equal(t, c.CanonicalQuery, lines[2])
			}
			if c.CRHash != "" {
				sum := sha256.Sum256([]byte(tr.canonical))
				require.Equal(t, c.CRHash, hex.EncodeToString(sum[:]))
			}
		})
	}
}
