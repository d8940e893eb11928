package awscred

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/anyblob/anyblob/auth/sigv4"
)

// callerIdentityBody is the form of an STS GetCallerIdentity call.
const callerIdentityBody = "Action=GetCallerIdentity&Version=2011-06-15"

// CallerIdentityRequest builds an STS GetCallerIdentity request signed with
// creds, without sending it: the proof of identity that credential
// exchanges (GCP workload identity federation, Vault's AWS auth method)
// take. endpoint "" means https://sts.REGION.amazonaws.com; extra headers
// are signed too. With inQuery the action goes in the query string and the
// body is empty (GCP's form); otherwise it is the form body (Vault's). It
// returns the request and its body. Errors: a missing region, an extra
// header value with a CR or LF, or bad credentials.
//
// The signed request is a bearer proof of identity for as long as the
// signature is valid (15 minutes) and carries the session token: treat it,
// and the encodings below, as secrets (never log them).
func CallerIdentityRequest(creds sigv4.Credentials, region, endpoint string, extra http.Header, inQuery bool, at time.Time) (*http.Request, []byte, error) {
	if region == "" {
		return nil, nil, errors.New("aws: GetCallerIdentity needs a region")
	}
	if endpoint == "" {
		endpoint = "https://sts." + region + ".amazonaws.com"
	}
	u := strings.TrimSuffix(endpoint, "/") + "/"
	var body []byte
	if inQuery {
		u += "?" + callerIdentityBody
	} else {
		body = []byte(callerIdentityBody)
	}
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if !inQuery {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	for k, vs := range extra {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n") {
				return nil, nil, fmt.Errorf("aws: GetCallerIdentity header %s holds a CR or LF", k)
			}
			req.Header.Add(k, v)
		}
	}
	sum := sha256.Sum256(body)
	signer := &sigv4.Signer{Service: "sts", Region: region}
	if err := signer.Sign(req, creds, hex.EncodeToString(sum[:]), at); err != nil {
		return nil, nil, err
	}
	return req, body, nil
}

// GCPSubjectToken returns the subject token GCP workload identity
// federation takes from AWS: the URL-encoded JSON form of a signed
// GetCallerIdentity request ({"url", "method", "headers": [{"key",
// "value"}]}) whose signed headers include x-goog-cloud-target-resource
// (the workload identity pool provider's full resource name).
func GCPSubjectToken(ctx context.Context, src sigv4.CredentialsSource, region, targetResource string) (string, error) {
	creds, err := src.Retrieve(ctx)
	if err != nil {
		return "", err
	}
	req, _, err := CallerIdentityRequest(creds, region, "", http.Header{"X-Goog-Cloud-Target-Resource": {targetResource}}, true, time.Now())
	if err != nil {
		return "", err
	}
	type kv struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	var hs []kv
	hs = append(hs, kv{"host", req.Host})
	if req.Host == "" {
		hs[0].Value = req.URL.Host
	}
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		hs = append(hs, kv{strings.ToLower(k), strings.Join(req.Header[k], ",")})
	}
	data, err := json.Marshal(struct {
		URL     string `json:"url"`
		Method  string `json:"method"`
		Headers []kv   `json:"headers"`
	}{req.URL.String(), req.Method, hs})
	if err != nil {
		return "", err
	}
	return url.QueryEscape(string(data)), nil
}

// VaultLoginData returns the fields of a Vault AWS auth method login
// (iam_http_request_method, iam_request_url, iam_request_body,
// iam_request_headers, the last three base64) for a signed
// GetCallerIdentity to the global STS endpoint. serverID, when not "", is
// signed as X-Vault-AWS-IAM-Server-ID, as Vault's iam_server_id_header_value
// requires.
func VaultLoginData(ctx context.Context, src sigv4.CredentialsSource, serverID string) (map[string]string, error) {
	creds, err := src.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	var extra http.Header
	if serverID != "" {
		extra = http.Header{"X-Vault-Aws-Iam-Server-Id": {serverID}}
	}
	req, body, err := CallerIdentityRequest(creds, "us-east-1", "https://sts.amazonaws.com", extra, false, time.Now())
	if err != nil {
		return nil, err
	}
	headers, err := json.Marshal(req.Header)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"iam_http_request_method": req.Method,
		"iam_request_url":         base64.StdEncoding.EncodeToString([]byte(req.URL.String())),
		"iam_request_body":        base64.StdEncoding.EncodeToString(body),
		"iam_request_headers":     base64.StdEncoding.EncodeToString(headers),
	}, nil
}
