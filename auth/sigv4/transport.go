package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Transport is an http.RoundTripper that signs every request it sends with
// credentials from Source.
//
// It never changes the request it is given: it signs a clone. The payload
// hash is, in this order: the X-Amz-Content-Sha256 header when the caller
// set one (so a caller that knows the hash, or wants UNSIGNED-PAYLOAD or a
// streaming mode, says so); EmptyPayloadHash for a request without a body;
// the SHA-256 of a fresh copy of the body from req.GetBody when the body
// can be replayed (http.NewRequest sets GetBody for bytes, strings and
// bytes.Buffer readers); UnsignedPayload over https otherwise. Over plain
// http, an S3 request whose body cannot be replayed but whose
// req.ContentLength is known is sent as aws-chunked with every chunk signed
// (see Signer.SignStreaming); any other body that can be neither replayed
// nor sent unsigned fails with ErrInvalidRequest rather than be read into
// memory.
//
// A Transport is safe for concurrent use when its Source is. Source and
// Signer must be set; Base nil means http.DefaultTransport and Now nil means
// time.Now. Errors from Source are returned wrapped, with the source's error
// kept for errors.Is / errors.As.
type Transport struct {
	Source CredentialsSource
	Signer *Signer
	Base   http.RoundTripper
	Now    func() time.Time
}

// RoundTrip signs a clone of req and sends it through Base. As
// http.RoundTripper requires, it closes req.Body also when it fails before
// sending.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	fail := func(err error) (*http.Response, error) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	if t.Source == nil || t.Signer == nil {
		return fail(fmt.Errorf("%w: sigv4.Transport needs both Source and Signer", ErrInvalidSigner))
	}
	creds, err := t.Source.Retrieve(req.Context())
	if err != nil {
		return fail(fmt.Errorf("sigv4: retrieving credentials: %w", err))
	}
	r := req.Clone(req.Context())
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	if streamable(r, t.Signer) {
		// S3 over plain http with a body that cannot be replayed: sign
		// every chunk instead of leaving the body unsigned.
		if err := t.Signer.SignStreaming(r, creds, 0, now()); err != nil {
			return fail(err)
		}
		return t.base().RoundTrip(r)
	}
	hash, err := transportPayloadHash(r)
	if err != nil {
		return fail(err)
	}
	if err := t.Signer.Sign(r, creds, hash, now()); err != nil {
		return fail(err)
	}
	return t.base().RoundTrip(r)
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// streamable reports whether r is an S3 request over plain http whose body
// can be neither replayed nor sent unsigned, but has a known length.
func streamable(r *http.Request, s *Signer) bool {
	return s.isS3() && !isHTTPS(r) && r.GetBody == nil && !bodyless(r) &&
		r.ContentLength > 0 && r.Header.Get("X-Amz-Content-Sha256") == ""
}

func transportPayloadHash(r *http.Request) (string, error) {
	if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" {
		return v, nil
	}
	if bodyless(r) {
		return EmptyPayloadHash, nil
	}
	if r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return "", fmt.Errorf("sigv4: getting a copy of the body to hash: %w", err)
		}
		defer body.Close()
		h := sha256.New()
		if _, err := io.Copy(h, body); err != nil {
			return "", fmt.Errorf("sigv4: hashing the body: %w", err)
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	if isHTTPS(r) {
		return UnsignedPayload, nil
	}
	return "", fmt.Errorf("%w: the body of a plain-http request cannot be replayed to hash it: set req.GetBody or the X-Amz-Content-Sha256 header, or use https", ErrInvalidRequest)
}
