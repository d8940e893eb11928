package azure

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/anyblob/anyblob/blob"
)

// delegationVersion is the service version of the user delegation SAS
// this package signs, and of the Get User Delegation Key call: 2020-12-06,
// whose string-to-sign the REST documentation ("Create a user delegation
// SAS") spells out. Azure accepts a SAS of an older version than the one
// a client speaks; the azblob SDK signs only its newest version, whose
// layout its documentation did not give when this was written, so the
// package signs its own, which a test checks against an independent
// computation of the documented layout.
const delegationVersion = "2020-12-06"

// delegationKey is the answer of Get User Delegation Key.
type delegationKey struct {
	ObjectID string `xml:"SignedOid"`
	TenantID string `xml:"SignedTid"`
	Start    string `xml:"SignedStart"`
	Expiry   string `xml:"SignedExpiry"`
	Service  string `xml:"SignedService"`
	Version  string `xml:"SignedVersion"`
	Value    string `xml:"Value"`
}

// String keeps the key's value out of logs and errors.
func (k delegationKey) String() string {
	return fmt.Sprintf("delegation key of %s, %s to %s", k.ObjectID, k.Start, k.Expiry)
}

// delegator fetches user delegation keys with a token credential.
type delegator struct {
	pl         runtime.Pipeline
	serviceURL string // with a trailing "/"
	account    string
}

func newDelegator(serviceURL, account string, cred azcore.TokenCredential, co *azcore.ClientOptions) *delegator {
	var opts azcore.ClientOptions
	if co != nil {
		opts = *co
	}
	pl := runtime.NewPipeline("anyblob-azure", "v1", runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(cred, []string{"https://storage.azure.com/.default"}, nil)},
	}, &opts)
	return &delegator{pl: pl, serviceURL: serviceURL, account: account}
}

// key asks the service for a user delegation key valid from start to
// expiry (Get User Delegation Key).
func (d *delegator) key(ctx context.Context, start, expiry time.Time) (delegationKey, error) {
	body := fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?><KeyInfo><Start>%s</Start><Expiry>%s</Expiry></KeyInfo>`,
		start.UTC().Format(sas.TimeFormat), expiry.UTC().Format(sas.TimeFormat))
	req, err := runtime.NewRequest(ctx, http.MethodPost, d.serviceURL+"?restype=service&comp=userdelegationkey")
	if err != nil {
		return delegationKey{}, err
	}
	req.Raw().Header["x-ms-version"] = []string{delegationVersion}
	if err := req.SetBody(nopSeekCloser{bytes.NewReader([]byte(body))}, "application/xml"); err != nil {
		return delegationKey{}, err
	}
	resp, err := d.pl.Do(req)
	if err != nil {
		return delegationKey{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return delegationKey{}, runtime.NewResponseError(resp)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return delegationKey{}, err
	}
	var k delegationKey
	if err := xml.Unmarshal(raw, &k); err != nil || k.Value == "" || k.ObjectID == "" {
		return delegationKey{}, blob.Errorf(blob.ErrInternal, "azblob: Get User Delegation Key: the answer holds no key")
	}
	return k, nil
}

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

// delegationSAS returns the query of a user delegation SAS (version
// delegationVersion) for blob name in container, made from v (the
// permissions, times, protocol, IP range and response headers; the fields
// of later versions are refused), signed with key.
func delegationSAS(key delegationKey, account, container, name string, v sas.BlobSignatureValues) (url.Values, error) {
	switch {
	case v.Identifier != "", !v.SnapshotTime.IsZero(), v.BlobVersion != "", v.Directory != "",
		v.SignedDelegatedUserObjectID != "", len(v.SignedRequestHeaders) > 0, len(v.SignedRequestQueryParameters) > 0:
		return nil, blob.Errorf(blob.ErrNotImplemented, "azblob: a user delegation SAS of version %s cannot carry an identifier, a snapshot, a version, a directory, a delegated user or signed request headers or parameters", delegationVersion)
	}
	k, err := base64.StdEncoding.DecodeString(key.Value)
	if err != nil {
		return nil, blob.Errorf(blob.ErrInternal, "azblob: the user delegation key is not base64")
	}
	st, se := "", v.ExpiryTime.UTC().Format(sas.TimeFormat)
	if !v.StartTime.IsZero() {
		st = v.StartTime.UTC().Format(sas.TimeFormat)
	}
	ip := ""
	if v.IPRange.Start != nil {
		ip = v.IPRange.String()
	}
	fields := []string{
		v.Permissions, st, se,
		"/blob/" + account + "/" + container + "/" + name,
		key.ObjectID, key.TenantID, key.Start, key.Expiry, key.Service, key.Version,
		v.AuthorizedObjectID, v.UnauthorizedObjectID, v.CorrelationID,
		ip, string(v.Protocol), delegationVersion, "b",
		"", // signedSnapshotTime
		v.EncryptionScope,
		v.CacheControl, v.ContentDisposition, v.ContentEncoding, v.ContentLanguage, v.ContentType,
	}
	mac := hmac.New(sha256.New, k)
	mac.Write([]byte(strings.Join(fields, "\n")))
	q := url.Values{
		"sv": {delegationVersion}, "sr": {"b"}, "se": {se}, "sp": {v.Permissions},
		"skoid": {key.ObjectID}, "sktid": {key.TenantID}, "skt": {key.Start}, "ske": {key.Expiry},
		"sks": {key.Service}, "skv": {key.Version},
		"sig": {base64.StdEncoding.EncodeToString(mac.Sum(nil))},
	}
	for name, val := range map[string]string{
		"st": st, "spr": string(v.Protocol), "sip": ip, "saoid": v.AuthorizedObjectID, "suoid": v.UnauthorizedObjectID,
		"scid": v.CorrelationID, "ses": v.EncryptionScope, "rscc": v.CacheControl, "rscd": v.ContentDisposition,
		"rsce": v.ContentEncoding, "rscl": v.ContentLanguage, "rsct": v.ContentType,
	} {
		if val != "" {
			q.Set(name, val)
		}
	}
	return q, nil
}

// accountOf is the storage account a service URL names: the first label of
// ACCOUNT.blob.core.windows.net, or the first path segment of an
// emulator-style http://HOST:PORT/ACCOUNT.
func accountOf(serviceURL string) string {
	u, err := url.Parse(serviceURL)
	if err != nil {
		return ""
	}
	if seg, _, _ := strings.Cut(strings.Trim(u.Path, "/"), "/"); seg != "" && (net.ParseIP(u.Hostname()) != nil || u.Hostname() == "localhost") {
		return seg
	}
	label, _, _ := strings.Cut(u.Hostname(), ".")
	return label
}
