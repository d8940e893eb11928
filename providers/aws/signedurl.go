package aws

import (
	"context"
	"fmt"
	"net/http"

	"github.com/anyblob/anyblob/blob"
)

// SignedURL presigns a request for key with the client's credentials (see
// auth/sigv4's Presign); the payload is UNSIGNED-PAYLOAD. For PUT, a
// ContentType is signed, and the upload must send that Content-Type. An
// anonymous client cannot sign: ErrUnauthenticated.
func (d *driver) SignedURL(ctx context.Context, key string, opts *blob.SignedURLOptions) (string, error) {
	if d.c.creds == nil {
		return "", blob.Errorf(blob.ErrUnauthenticated, "s3: an anonymous client cannot sign URLs")
	}
	creds, err := d.c.creds.Retrieve(ctx)
	if err != nil {
		return "", &blob.Error{Kind: blob.ErrUnauthenticated, Err: fmt.Errorf("s3: retrieving credentials: %w", err)}
	}
	key, err = d.k(key)
	if err != nil {
		return "", err
	}
	u := d.c.url(d.name, key, nil)
	req, err := http.NewRequestWithContext(ctx, opts.Method, u.String(), nil)
	if err != nil {
		return "", blob.Errorf(blob.ErrInvalidArgument, "s3: %v", err)
	}
	req.URL = u
	if opts.ContentType != "" {
		req.Header.Set("Content-Type", opts.ContentType)
	}
	if err := blob.CallHook(opts.BeforeSign, blob.NativeAs(req)); err != nil {
		return "", err
	}
	pu, err := d.c.signer.Presign(req, creds, unsignedPayload, opts.Expiry, d.c.clock())
	if err != nil {
		return "", &blob.Error{Kind: blob.ErrInvalidArgument, Err: fmt.Errorf("s3: presigning: %w", err)}
	}
	return pu.String(), nil
}
