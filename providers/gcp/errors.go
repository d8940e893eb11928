package gcp

import (
	"errors"
	"net/http"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/errkind"
)

// status returns the HTTP status of a service error, or 0.
func status(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// errorDetail says what an error of the storage client means to blob: its
// not-exist sentinels are ErrNotFound, a JSON API error answer is mapped
// by the status table every HTTP driver shares (its first reason is the
// code), and no credential from the chain is ErrUnauthenticated.
func errorDetail(err error) blob.ErrorDetail {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		d := blob.ErrorDetail{Kind: errkind.Status(ge.Code), Status: ge.Code, Message: ge.Message}
		if len(ge.Errors) > 0 {
			d.Code = ge.Errors[0].Reason
		}
		if d.Message == "" {
			d.Message = http.StatusText(ge.Code)
		}
		if checksumMismatch(err) {
			d.Kind = blob.ErrInternal
		}
		d.RequestID = ge.Header.Get("X-Guploader-Uploadid")
		return d
	}
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		return blob.ErrorDetail{Kind: blob.ErrNotFound, Message: "object doesn't exist"}
	case errors.Is(err, storage.ErrBucketNotExist):
		return blob.ErrorDetail{Kind: blob.ErrNotFound, Message: "bucket doesn't exist"}
	}
	if k := errkind.Common(err); k != nil {
		return blob.ErrorDetail{Kind: k}
	}
	return blob.ErrorDetail{}
}

// checksumMismatch reports whether err is the service refusing an upload
// whose declared CRC32C or MD5 does not match the bytes that arrived
// (400, "Provided CRC32C ... doesn't match calculated CRC32C ..."): the
// body changed on the way, which is no mistake of the caller's. It is
// retried (Client.shouldRetry) and, if it lasts, ErrInternal. The service
// gives it no reason code of its own, so the message is what tells it.
func checksumMismatch(err error) bool {
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != http.StatusBadRequest {
		return false
	}
	m := strings.ToLower(ge.Message + " " + ge.Body)
	return strings.Contains(m, "doesn't match calculated") || strings.Contains(m, "does not match calculated")
}

// ErrorDetail implements blob.Driver.
func (d *driver) ErrorDetail(err error) blob.ErrorDetail { return errorDetail(err) }
