package gcp

import (
	"encoding/base64"
	"net/http"
	"strings"

	"cloud.google.com/go/storage"

	"github.com/anyblob/anyblob/blob"
)

// checkEncryption refuses what GCS has no per-object form of: an Azure
// encryption scope, an SSE-KMS context (ErrNotImplemented). The service's
// keys are GCS's default; a KMS key is CMEK (kmsKeyName) and a customer
// key CSEK.
func checkEncryption(e *blob.Encryption) error {
	switch {
	case e == nil:
		return nil
	case e.Scope != "":
		return blob.Errorf(blob.ErrNotImplemented, "gs: encryption scopes are Azure's; use KMSKey (CMEK) or CustomerKey (CSEK)")
	case len(e.KMSContext) > 0:
		return blob.Errorf(blob.ErrNotImplemented, "gs: a KMS encryption context is S3's; GCS takes the key name alone")
	}
	return nil
}

// withKey is obj reading or writing with e's customer key (CSEK), if any.
func withKey(obj *storage.ObjectHandle, e *blob.Encryption) *storage.ObjectHandle {
	if e != nil && e.CustomerKey != nil {
		return obj.Key(e.CustomerKey)
	}
	return obj
}

// encryptionOf is how GCS says an object is encrypted: a customer key
// (its SHA-256), a Cloud KMS key, else the service's keys.
func encryptionOf(a *storage.ObjectAttrs) *blob.EncryptionInfo {
	switch {
	case a.CustomerKeySHA256 != "":
		sum, _ := base64.StdEncoding.DecodeString(a.CustomerKeySHA256)
		return &blob.EncryptionInfo{Kind: "customer", CustomerKeySHA256: sum}
	case a.KMSKeyName != "":
		return &blob.EncryptionInfo{Kind: "kms", KMSKey: a.KMSKeyName}
	}
	return &blob.EncryptionInfo{Kind: "service"}
}

// customerKeyError turns GCS's 400 to a read of an object encrypted with a
// customer-supplied key, made without it ("... encrypted by a
// customer-supplied encryption key"), or with another key, into
// ErrPermissionDenied that says what to do; other errors pass.
func customerKeyError(err error, gave bool) error {
	if status(err) != http.StatusBadRequest || !strings.Contains(strings.ToLower(err.Error()), "encrypt") {
		return err
	}
	d := errorDetail(err)
	what := "the object is encrypted with a customer-supplied key (CSEK): give it in ReaderOptions.Encryption"
	if gave {
		what = "the customer-supplied key given is not the object's"
	}
	return &blob.Error{Kind: blob.ErrPermissionDenied, Code: d.Code, Status: d.Status, RequestID: d.RequestID,
		Err: blob.Errorf(blob.ErrPermissionDenied, "gs: %s; the service answered: %v", what, err)}
}
