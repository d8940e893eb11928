package azure

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/anyblob/anyblob/blob"
)

func (d *driver) SignedURL(ctx context.Context, key string, opts *blob.SignedURLOptions) (string, error) {
	var perms sas.BlobPermissions
	switch opts.Method {
	case http.MethodGet:
		perms.Read = true
	case http.MethodPut:
		perms.Create, perms.Write = true, true
	case http.MethodDelete:
		perms.Delete = true
	}
	start := time.Now().UTC().Add(-5 * time.Minute) // tolerate clock skew
	v := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		StartTime:     start,
		ExpiryTime:    time.Now().UTC().Add(opts.Expiry),
		Permissions:   perms.String(),
		ContainerName: d.name,
		BlobName:      stored(key),
	}
	if opts.ContentType != "" {
		v.ContentType = opts.ContentType
	}
	if err := blob.CallHook(opts.BeforeSign, blob.NativeAs(&v)); err != nil {
		return "", err
	}
	var qp sas.QueryParameters
	var err error
	switch {
	case d.c.sharedKey != nil:
		qp, err = v.SignWithSharedKey(d.c.sharedKey)
	case d.c.userDelegation:
		// Our own signer: see delegationVersion.
		k, err := d.c.delegator.key(ctx, start, v.ExpiryTime)
		if err != nil {
			return "", err
		}
		q, err := delegationSAS(k, d.c.delegator.account, d.name, stored(key), v)
		if err != nil {
			return "", err
		}
		return d.cc.NewBlobClient(stored(key)).URL() + "?" + q.Encode(), nil
	default:
		return "", blob.Errorf(blob.ErrNotImplemented, "azblob: a container opened with a SAS token cannot sign URLs")
	}
	if err != nil {
		return "", fmt.Errorf("azblob: signing: %w", err)
	}
	return d.cc.NewBlobClient(stored(key)).URL() + "?" + qp.Encode(), nil
}
