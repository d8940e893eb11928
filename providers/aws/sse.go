package aws

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/anyblob/anyblob/blob"
)

// sseHeaders adds to h the server-side encryption headers of e (nil adds
// none): SSE-S3 (ServiceManaged), SSE-KMS (KMSKey, KMSContext) or SSE-C
// (CustomerKey); with source, the SSE-C headers of a copy's source. An
// encryption scope is Azure's: ErrNotImplemented.
func sseHeaders(h http.Header, e *blob.Encryption, source bool) error {
	if e == nil {
		return nil
	}
	if e.Scope != "" {
		return blob.Errorf(blob.ErrNotImplemented, "s3: encryption scopes are Azure's; use KMSKey (SSE-KMS)")
	}
	if e.CustomerKey != nil {
		sum := md5.Sum(e.CustomerKey)
		prefix := "X-Amz-Server-Side-Encryption-Customer-"
		if source {
			prefix = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-"
		}
		h.Set(prefix+"Algorithm", "AES256")
		h.Set(prefix+"Key", base64.StdEncoding.EncodeToString(e.CustomerKey))
		h.Set(prefix+"Key-Md5", base64.StdEncoding.EncodeToString(sum[:]))
		return nil
	}
	if source {
		return nil
	}
	switch {
	case e.ServiceManaged:
		h.Set("X-Amz-Server-Side-Encryption", "AES256")
	case e.KMSKey != "":
		h.Set("X-Amz-Server-Side-Encryption", "aws:kms")
		h.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", e.KMSKey)
		if len(e.KMSContext) > 0 {
			j, err := json.Marshal(e.KMSContext)
			if err != nil {
				return blob.Errorf(blob.ErrInvalidArgument, "s3: KMSContext: %v", err)
			}
			h.Set("X-Amz-Server-Side-Encryption-Context", base64.StdEncoding.EncodeToString(j))
		}
	}
	return nil
}

// customerKeyHeaders is sseHeaders for the requests that carry only the
// customer key (parts, reads); nil for any other encryption.
func customerKeyHeaders(h http.Header, e *blob.Encryption) {
	if e != nil && e.CustomerKey != nil {
		_ = sseHeaders(h, e, false)
	}
}

// encryptionFrom reads how an object is encrypted from HEAD or GET
// headers; nil when they do not say.
func encryptionFrom(h http.Header) *blob.EncryptionInfo {
	switch sse := h.Get("X-Amz-Server-Side-Encryption"); {
	case h.Get("X-Amz-Server-Side-Encryption-Customer-Algorithm") != "":
		return &blob.EncryptionInfo{Kind: "customer"}
	case strings.HasPrefix(sse, "aws:kms"):
		return &blob.EncryptionInfo{Kind: "kms", KMSKey: h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")}
	case sse != "":
		return &blob.EncryptionInfo{Kind: "service"}
	}
	return nil
}

// customerKeyError turns S3's answer to a read of an SSE-C object without
// its key (400, InvalidRequest, "... Server Side Encryption ...") or with
// another key (403) into ErrPermissionDenied that says what to do; other
// errors pass.
func customerKeyError(err error, gave bool) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	d := errorDetail(err)
	switch {
	case !gave && e.Status == http.StatusBadRequest && (strings.Contains(strings.ToLower(e.Message), "encryption") || e.Code == ""):
		// A HEAD's 400 has no body to say why; for an object read by
		// name, a customer key is what S3 answers that way for.
		what := "the object is encrypted with a customer key (SSE-C)"
		if e.Code == "" {
			what = "the service refused the request without saying why, as it does for an object encrypted with a customer key (SSE-C)"
		}
		return &blob.Error{Kind: blob.ErrPermissionDenied, Code: d.Code, Status: d.Status, RequestID: d.RequestID,
			Err: blob.Errorf(blob.ErrPermissionDenied, "s3: %s: give the key in ReaderOptions.Encryption or CopyOptions.SourceEncryption (Attributes takes no key; a Reader's Attrs has the size, type, time and ETag); the service answered: %v", what, err)}
	case gave && e.Status == http.StatusForbidden:
		return &blob.Error{Kind: blob.ErrPermissionDenied, Code: d.Code, Status: d.Status, RequestID: d.RequestID,
			Err: blob.Errorf(blob.ErrPermissionDenied, "s3: the customer key given is not the object's (or the object is not encrypted with one): %v", err)}
	}
	return err
}
