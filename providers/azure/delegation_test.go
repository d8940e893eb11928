package azure_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/providers/azure"
)

// staticToken is a token credential that hands out one token.
type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "entra-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// delegationKeyValue is the key the fake service hands out.
var delegationKeyValue = []byte("0123456789abcdef0123456789abcdef")

// verifySAS is the service's side of a user delegation SAS of version
// 2020-12-06, written from the REST documentation ("Create a user
// delegation SAS": the string-to-sign of version 2020-12-06 and later, the
// canonicalized resource /blob/account/container/blob, URL-decoded, empty
// lines for fields not given): it recomputes the signature over the query
// and the path it is given, and checks the times. It returns the signed
// permissions.
func verifySAS(raw string, now time.Time) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	q := u.Query()
	if q.Get("sv") != "2020-12-06" || q.Get("sr") != "b" {
		return "", fmt.Errorf("version %q, resource %q", q.Get("sv"), q.Get("sr"))
	}
	toSign := strings.Join([]string{
		q.Get("sp"), q.Get("st"), q.Get("se"),
		"/blob/acct" + u.Path,
		q.Get("skoid"), q.Get("sktid"), q.Get("skt"), q.Get("ske"), q.Get("sks"), q.Get("skv"),
		q.Get("saoid"), q.Get("suoid"), q.Get("scid"),
		q.Get("sip"), q.Get("spr"), q.Get("sv"), q.Get("sr"),
		"", // signedSnapshotTime
		q.Get("ses"),
		q.Get("rscc"), q.Get("rscd"), q.Get("rsce"), q.Get("rscl"), q.Get("rsct"),
	}, "\n")
	mac := hmac.New(sha256.New, delegationKeyValue)
	mac.Write([]byte(toSign))
	if !hmac.Equal([]byte(base64.StdEncoding.EncodeToString(mac.Sum(nil))), []byte(q.Get("sig"))) {
		return "", errors.New("signature mismatch")
	}
	se, err := time.Parse(time.RFC3339, q.Get("se"))
	if err != nil || !now.Before(se) {
		return "", fmt.Errorf("expired (se %s)", q.Get("se"))
	}
	if st := q.Get("st"); st != "" {
		if t, err := time.Parse(time.RFC3339, st); err != nil || now.Before(t) {
			return "", fmt.Errorf("not yet valid (st %s)", st)
		}
	}
	return q.Get("sp"), nil
}

// TestUserDelegationSAS signs URLs with a token credential against a fake
// service that hands out a user delegation key (checking the bearer token,
// the version and the key's requested lifetime), and verifies each URL as
// the service would; a URL whose expiry or permissions were changed, or
// that has expired, is refused.
func TestUserDelegationSAS(t *testing.T) {
	var keys atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Query().Get("comp") != "userdelegationkey" || r.URL.Query().Get("restype") != "service" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.String(), http.StatusBadRequest)
			return
		}
		if r.Header.Get("Authorization") != "Bearer entra-token" || r.Header.Get("x-ms-version") != "2020-12-06" {
			http.Error(w, "bad auth or version", http.StatusForbidden)
			return
		}
		var ki struct{ Start, Expiry string }
		body, _ := io.ReadAll(r.Body)
		if err := xml.Unmarshal(body, &ki); err != nil {
			http.Error(w, "bad KeyInfo", http.StatusBadRequest)
			return
		}
		start, err1 := time.Parse(time.RFC3339, ki.Start)
		expiry, err2 := time.Parse(time.RFC3339, ki.Expiry)
		if err1 != nil || err2 != nil || !start.Before(time.Now()) || !expiry.After(time.Now()) {
			http.Error(w, "bad key lifetime "+string(body), http.StatusBadRequest)
			return
		}
		keys.Add(1)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><UserDelegationKey><SignedOid>oid-1</SignedOid><SignedTid>tid-1</SignedTid><SignedStart>%s</SignedStart><SignedExpiry>%s</SignedExpiry><SignedService>b</SignedService><SignedVersion>2020-12-06</SignedVersion><Value>%s</Value></UserDelegationKey>`,
			ki.Start, ki.Expiry, base64.StdEncoding.EncodeToString(delegationKeyValue))
	}))
	defer srv.Close()
	ctx := context.Background()
	c, err := azure.New(ctx, azure.Options{ServiceURL: srv.URL, Account: "acct", Credential: staticToken{},
		ClientOptions: &service.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client()}}})
	require.NoError(t, err)
	b, err := c.Bucket("cont")
	require.NoError(t, err)

	for method, perms := range map[string]string{http.MethodGet: "r", http.MethodPut: "cw", http.MethodDelete: "d"} {
		u, err := b.SignedURL(ctx, "dir/é file.txt", &blob.SignedURLOptions{Method: method, Expiry: time.Hour})
		require.NoError(t, err)
		pu, err := url.Parse(u)
		require.NoError(t, err)
		require.Equal(t, "/cont/dir/é file.txt", pu.Path, "the blob, URL-decoded")
		got, err := verifySAS(u, time.Now())
		require.NoError(t, err, method)
		require.Equal(t, perms, got, method)

		tamper := func(k, v string) string {
			pu, _ := url.Parse(u)
			q := pu.Query()
			q.Set(k, v)
			pu.RawQuery = q.Encode()
			return pu.String()
		}
		_, err = verifySAS(tamper("se", time.Now().Add(30*24*time.Hour).UTC().Format(time.RFC3339)), time.Now())
		require.ErrorContains(t, err, "signature mismatch", "a longer expiry is not the signed one")
		_, err = verifySAS(tamper("sp", "racwd"), time.Now())
		require.ErrorContains(t, err, "signature mismatch", "more permissions are not the signed ones")
		_, err = verifySAS(strings.Replace(u, "/cont/dir", "/cont/other", 1), time.Now())
		require.ErrorContains(t, err, "signature mismatch", "another blob is not the signed one")
		_, err = verifySAS(u, time.Now().Add(2*time.Hour))
		require.ErrorContains(t, err, "expired", "an hour's URL two hours later")
	}
	require.Equal(t, int32(3), keys.Load(), "one key a URL")

	u, err := b.SignedURL(ctx, "k", &blob.SignedURLOptions{Method: http.MethodPut, Expiry: time.Minute, ContentType: "text/csv"})
	require.NoError(t, err)
	_, err = verifySAS(u, time.Now())
	require.NoError(t, err, "response headers are signed too")
	require.Contains(t, u, "rsct=text%2Fcsv")
}
