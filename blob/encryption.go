package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// Encryption is how an object is encrypted at rest, past the bucket's own
// default, for WriterOptions, CopyOptions and (customer keys only)
// ReaderOptions. nil means the bucket's default. Set one of KMSKey, Scope
// or CustomerKey; what each cloud does with them:
//
//	                S3                         Azure                      GCS
//	KMSKey          SSE-KMS (x-amz-server-     ErrNotImplemented (use     CMEK (kmsKeyName)
//	                side-encryption: aws:kms)  an encryption Scope)
//	KMSContext      SSE-KMS encryption context ErrNotImplemented          ErrNotImplemented
//	Scope           ErrNotImplemented          encryption scope           ErrNotImplemented
//	ServiceManaged  SSE-S3 (AES256)            no-op (always)             no-op (always)
//	CustomerKey     SSE-C                      customer-provided key      customer-supplied key
//	                                           (CPK)                      (CSEK)
//
// A customer key is never stored by the service: every read, and the
// source side of a copy, must give it again (ReaderOptions.Encryption,
// CopyOptions.SourceEncryption). A read without it, or with another key,
// fails with ErrPermissionDenied saying so (the services answer 400, 403
// or 409). Attributes takes no key, so on S3 and Azure it fails the same
// way for such an object; a Reader opened with the key has its size,
// content type, time and ETag (Reader.Attrs). GCS gives an object's
// attributes without its key. Azure's Copy Blob takes no customer key (ErrNotImplemented:
// read and write instead). Memory and directory buckets ignore Encryption
// but check it as every backend does.
//
// An Encryption prints (String, %v, %+v, %#v, slog) without its customer
// key: only the key's SHA-256 fingerprint, its first 8 hex digits.
type Encryption struct {
	// KMSKey is the key management service's key: an AWS KMS key ID, ARN
	// or alias; a Cloud KMS key name (projects/P/locations/L/keyRings/R/
	// cryptoKeys/K).
	KMSKey string
	// KMSContext is the SSE-KMS encryption context (S3 only); it needs
	// KMSKey.
	KMSContext map[string]string
	// Scope is an Azure encryption scope.
	Scope string
	// ServiceManaged asks for the service's own keys explicitly (S3
	// SSE-S3), for buckets whose default is otherwise.
	ServiceManaged bool
	// CustomerKey is a 32-byte AES-256 key the caller keeps.
	CustomerKey []byte
}

// Validate checks e: one kind of encryption, a 32-byte CustomerKey, no
// KMSContext without KMSKey. Errors are ErrInvalidArgument; nil is
// valid.
func (e *Encryption) Validate() error {
	if e == nil {
		return nil
	}
	kinds := 0
	for _, set := range []bool{e.KMSKey != "", e.Scope != "", e.ServiceManaged, e.CustomerKey != nil} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds > 1:
		return Errorf(ErrInvalidArgument, "Encryption sets more than one of KMSKey, Scope, ServiceManaged and CustomerKey")
	case e.CustomerKey != nil && len(e.CustomerKey) != 32:
		return Errorf(ErrInvalidArgument, "Encryption.CustomerKey is %d bytes; an AES-256 key is 32", len(e.CustomerKey))
	case len(e.KMSContext) > 0 && e.KMSKey == "":
		return Errorf(ErrInvalidArgument, "Encryption.KMSContext needs a KMSKey")
	}
	for _, v := range []struct{ what, s string }{{"KMSKey", e.KMSKey}, {"Scope", e.Scope}} {
		if err := ValidateHeader("Encryption."+v.what, v.s); err != nil {
			return err
		}
	}
	return nil
}

// Fingerprint is the first 8 hex digits of the SHA-256 of the customer
// key, to tell keys apart in logs; "" without one.
func (e *Encryption) Fingerprint() string {
	if e == nil || e.CustomerKey == nil {
		return ""
	}
	sum := sha256.Sum256(e.CustomerKey)
	return hex.EncodeToString(sum[:4])
}

// String describes e without its customer key.
func (e *Encryption) String() string {
	if e == nil {
		return "Encryption(default)"
	}
	var parts []string
	if e.KMSKey != "" {
		parts = append(parts, "KMSKey="+e.KMSKey)
	}
	if len(e.KMSContext) > 0 {
		keys := make([]string, 0, len(e.KMSContext))
		for k := range e.KMSContext {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts = append(parts, "KMSContext="+strings.Join(keys, ","))
	}
	if e.Scope != "" {
		parts = append(parts, "Scope="+e.Scope)
	}
	if e.ServiceManaged {
		parts = append(parts, "ServiceManaged")
	}
	if e.CustomerKey != nil {
		parts = append(parts, "CustomerKey=[redacted sha256:"+e.Fingerprint()+"]")
	}
	return "Encryption(" + strings.Join(parts, " ") + ")"
}

// Format prints String for every verb, so no verb shows the key.
func (e *Encryption) Format(f fmt.State, _ rune) { fmt.Fprint(f, e.String()) }

// LogValue logs String.
func (e *Encryption) LogValue() slog.Value { return slog.StringValue(e.String()) }

// EncryptionInfo is how an object is encrypted, as Attributes reports it;
// never a key.
type EncryptionInfo struct {
	// Kind is "service" (the service's keys), "kms" (a KMS key),
	// "scope" (an Azure encryption scope) or "customer" (a customer key);
	// "" where the service does not say.
	Kind string
	// KMSKey is the KMS key, for Kind "kms"; Scope the scope, for
	// "scope".
	KMSKey, Scope string
	// CustomerKeySHA256 is the SHA-256 of the customer key, for
	// "customer", where the service returns it (Azure, GCS); S3 returns
	// an MD5 of the key, which is not kept here.
	CustomerKeySHA256 []byte
}
