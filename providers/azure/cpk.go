package azure

import (
	"crypto/sha256"
	"encoding/base64"

	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/anyblob/anyblob/blob"
)

// encryption returns the azblob options for e: a customer-provided key
// (CPK) or an encryption scope; nil for nil or the service's keys. A KMS
// key is no Azure option per blob (a scope names one): ErrNotImplemented.
func encryption(e *blob.Encryption) (*azblobblob.CPKInfo, *azblobblob.CPKScopeInfo, error) {
	switch {
	case e == nil, e.ServiceManaged:
		return nil, nil, nil
	case e.KMSKey != "":
		return nil, nil, blob.Errorf(blob.ErrNotImplemented, "azblob: a blob takes no KMS key of its own; create an encryption scope with the key and set Encryption.Scope")
	case e.Scope != "":
		return nil, &azblobblob.CPKScopeInfo{EncryptionScope: &e.Scope}, nil
	}
	return cpk(e), nil, nil
}

// cpk is the customer-provided key of e (nil without one).
func cpk(e *blob.Encryption) *azblobblob.CPKInfo {
	if e == nil || e.CustomerKey == nil {
		return nil
	}
	sum := sha256.Sum256(e.CustomerKey)
	key := base64.StdEncoding.EncodeToString(e.CustomerKey)
	hash := base64.StdEncoding.EncodeToString(sum[:])
	alg := azblobblob.EncryptionAlgorithmTypeAES256
	return &azblobblob.CPKInfo{EncryptionKey: &key, EncryptionKeySHA256: &hash, EncryptionAlgorithm: &alg}
}

// encryptionInfo is how the service says a blob is encrypted; nil when it
// does not.
func encryptionInfo(keySHA256, scope *string) *blob.EncryptionInfo {
	switch {
	case keySHA256 != nil && *keySHA256 != "":
		sum, _ := base64.StdEncoding.DecodeString(*keySHA256)
		return &blob.EncryptionInfo{Kind: "customer", CustomerKeySHA256: sum}
	case scope != nil && *scope != "" && *scope != "$account-encryption-key":
		return &blob.EncryptionInfo{Kind: "scope", Scope: *scope}
	case scope != nil && *scope != "":
		return &blob.EncryptionInfo{Kind: "service"}
	}
	return nil
}
