package sigv4

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
)

type identityKey struct{}

// IdentityFrom returns the Identity the Middleware stored in ctx; ok is
// false when there is none.
func IdentityFrom(ctx context.Context) (id *Identity, ok bool) {
	id, ok = ctx.Value(identityKey{}).(*Identity)
	return id, ok
}

// ContextWithIdentity returns ctx carrying id, as the Middleware does.
func ContextWithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// Middleware verifies each request before it reaches next. A request that
// fails gets 403 Forbidden (500 for an InternalError, a failing credentials
// lookup) with an S3-style XML error body
// (<Error><Code>..</Code><Message>..</Message></Error>) naming the failed
// check; a
// verified one reaches next with its Identity in the request context (see
// IdentityFrom). Payload checks that happen while next reads the body
// surface as read errors there (see Verify).
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := v.Verify(r)
		if err != nil {
			status := http.StatusForbidden
			var ve *VerifyError
			if errors.As(err, &ve) && ve.Code == CodeInternalError {
				status = http.StatusInternalServerError
			}
			writeError(w, err, status)
			return
		}
		next.ServeHTTP(w, r.WithContext(ContextWithIdentity(r.Context(), id)))
	})
}

type xmlError struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
}

// WriteError answers err as S3 does: with the status (VerifyError.Status)
// and code of a *VerifyError, or 403 AccessDenied for any other error. The
// message of an InternalError is not sent (it may describe the credentials
// store).
func WriteError(w http.ResponseWriter, err error) { writeError(w, err, 0) }

// writeError writes err; status 0 means the error's own.
func writeError(w http.ResponseWriter, err error, status int) {
	ve := &VerifyError{Code: CodeAccessDenied, Status: http.StatusForbidden, Message: "Access Denied"}
	var e *VerifyError
	if errors.As(err, &e) {
		ve = e
	}
	msg := ve.Message
	if ve.Code == CodeInternalError {
		msg = "We encountered an internal error. Please try again."
	}
	body, _ := xml.Marshal(xmlError{Code: ve.Code, Message: msg})
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if status == 0 {
		status = ve.Status
	}
	if status == 0 {
		status = http.StatusForbidden
	}
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}
