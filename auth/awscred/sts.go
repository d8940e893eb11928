package awscred

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anyblob/anyblob/auth/sigv4"
)

// stsClient calls the STS Query API.
type stsClient struct {
	endpoint string // "https://sts.REGION.amazonaws.com" or an override
	region   string
	http     *http.Client
	now      func() time.Time
	// skew is the server clock minus ours, learned from a refused
	// signature's Date header (nanoseconds); added to the signing time.
	skew atomic.Int64
}

// stsError is an STS error response; it never holds credentials.
type stsError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *stsError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("sts: status %d with no STS error document", e.Status)
	}
	return fmt.Sprintf("sts: %s (status %d): %s (request id %s)", e.Code, e.Status, e.Message, e.RequestID)
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumeResult struct {
	Credentials stsCredentials `xml:"Credentials"`
	Arn         string         `xml:"AssumedRoleUser>Arn"`
}

// call POSTs form to STS, signed with creds unless creds is nil, and
// decodes the <ActionResult> element. A signed call refused with a
// clock-skew code whose answer's Date is more than 4 minutes from our clock
// is signed again, once, at the server's time; the offset is kept for the
// client's later calls.
func (s *stsClient) call(ctx context.Context, form url.Values, creds *sigv4.Credentials) (*assumeResult, error) {
	form.Set("Version", "2011-06-15")
	body := form.Encode()
	var resp *http.Response
	var data []byte
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint+"/", strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		if creds != nil {
			sum := sha256.Sum256([]byte(body))
			signer := &sigv4.Signer{Service: "sts", Region: s.region}
			at := s.now().Add(time.Duration(s.skew.Load()))
			if err := signer.Sign(req, *creds, hex.EncodeToString(sum[:]), at); err != nil {
				return nil, err
			}
		}
		resp, err = s.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("sts %s: %w", form.Get("Action"), err)
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusOK {
			break
		}
		var er struct {
			Code      string `xml:"Error>Code"`
			Message   string `xml:"Error>Message"`
			RequestID string `xml:"RequestId"`
		}
		_ = xml.Unmarshal(data, &er)
		if creds != nil && attempt == 0 && skewCodes[er.Code] && s.learnSkew(resp.Header.Get("Date")) {
			continue // signed again with the server's clock
		}
		return nil, &stsError{Status: resp.StatusCode, Code: er.Code, Message: er.Message, RequestID: er.RequestID}
	}
	var out struct {
		Result assumeResult `xml:",any"`
	}
	if err := xml.Unmarshal(data, &out); err != nil || out.Result.Credentials.AccessKeyID == "" {
		return nil, fmt.Errorf("sts %s: the answer holds no credentials", form.Get("Action"))
	}
	return &out.Result, nil
}

// skewCodes are the STS error codes a clock off by minutes can cause.
var skewCodes = map[string]bool{
	"RequestTimeTooSkewed": true, "RequestExpired": true, "SignatureDoesNotMatch": true,
	"InvalidSignatureException": true, "AuthFailure": true,
}

// maxSkew is how far the server's Date may be from our clock before the
// difference is taken as skew, as the SDKs do.
const maxSkew = 4 * time.Minute

// learnSkew records the offset of the server's Date header from our
// clock, when it is more than maxSkew; it reports whether it did (and so
// whether signing again may help).
func (s *stsClient) learnSkew(date string) bool {
	server, err := http.ParseTime(date)
	if err != nil {
		return false
	}
	d := server.Sub(s.now())
	if d < maxSkew && d > -maxSkew {
		return false
	}
	s.skew.Store(int64(d))
	return true
}

// toCredentials converts an STS answer; the account id is the 5th field of
// the assumed role's ARN.
func (r *assumeResult) toCredentials(source string) (sigv4.Credentials, error) {
	exp, err := time.Parse(time.RFC3339, r.Credentials.Expiration)
	if err != nil {
		return sigv4.Credentials{}, fmt.Errorf("sts: bad Expiration %q", r.Credentials.Expiration)
	}
	c := sigv4.Credentials{
		AccessKeyID: r.Credentials.AccessKeyID, SecretAccessKey: r.Credentials.SecretAccessKey,
		SessionToken: r.Credentials.SessionToken, Expires: exp, Source: source,
	}
	if parts := strings.Split(r.Arn, ":"); len(parts) > 4 {
		c.AccountID = parts[4]
	}
	return c, nil
}

// assumeRole is the options of one AssumeRole. serialNumber is the MFA
// device (mfa_serial), sent with tokenCode, the code of this one call.
type assumeRole struct {
	arn, sessionName, externalID string
	duration                     time.Duration
	serialNumber, tokenCode      string
}

func (s *stsClient) assumeRole(ctx context.Context, base sigv4.Credentials, r assumeRole) (sigv4.Credentials, error) {
	form := url.Values{"Action": {"AssumeRole"}, "RoleArn": {r.arn}, "RoleSessionName": {r.sessionName}}
	if r.duration > 0 {
		form.Set("DurationSeconds", strconv.Itoa(int(r.duration.Seconds())))
	}
	if r.externalID != "" {
		form.Set("ExternalId", r.externalID)
	}
	if r.serialNumber != "" {
		form.Set("SerialNumber", r.serialNumber)
		form.Set("TokenCode", r.tokenCode)
	}
	res, err := s.call(ctx, form, &base)
	if err != nil {
		return sigv4.Credentials{}, err
	}
	return res.toCredentials("assume role " + r.arn)
}

func (s *stsClient) assumeRoleWithWebIdentity(ctx context.Context, arn, session, token string) (sigv4.Credentials, error) {
	form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "RoleArn": {arn}, "RoleSessionName": {session}, "WebIdentityToken": {token}}
	res, err := s.call(ctx, form, nil)
	if err != nil {
		return sigv4.Credentials{}, err
	}
	return res.toCredentials("web identity " + arn)
}
