package gcp

import (
	"context"
	"net/http"
	"strings"
	"time"

	"cloud.google.com/go/storage"

	"github.com/anyblob/anyblob/blob"
)

func (d *driver) SignedURL(ctx context.Context, key string, opts *blob.SignedURLOptions) (string, error) {
	// The client counts whole seconds down from its own clock; half a
	// second of slack keeps X-Goog-Expires at the expiry asked for (the
	// 7-day maximum itself comes out one second shorter).
	expiry := opts.Expiry
	if expiry <= blob.MaxSignedURLExpiry-time.Second {
		expiry += 500 * time.Millisecond
	}
	so := &storage.SignedURLOptions{
		Scheme:   storage.SigningSchemeV4,
		Method:   opts.Method,
		Expires:  time.Now().Add(expiry),
		Insecure: d.c.insecure,
	}
	if opts.ContentType != "" {
		so.ContentType = opts.ContentType
	}
	if d.c.opts.SignerKey != nil {
		so.GoogleAccessID = d.c.opts.SignerEmail
		so.PrivateKey = d.c.opts.SignerKey
	}
	if err := blob.CallHook(opts.BeforeSign, blob.NativeAs(so)); err != nil {
		return "", err
	}
	u, err := d.bkt.SignedURL(key, so)
	if err != nil {
		// IAM signBlob refusing (403: the account lacks
		// iam.serviceAccounts.signBlob) is a permission the caller can
		// grant; anything else (no key, no account to sign as) is missing
		// credentials.
		kind := blob.ErrUnauthenticated
		if d := errorDetail(err); d.Status == http.StatusForbidden || strings.Contains(err.Error(), "Error 403") {
			kind = blob.ErrPermissionDenied
		}
		return "", blob.Errorf(kind, "gs: cannot sign: %v", err)
	}
	return u, nil
}
