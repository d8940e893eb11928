package sigv4

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Credentials are the AWS keys a request is signed with.
//
// The zero value holds no keys; signing with it fails with an error that says
// the access key ID is empty. Expires is the zero time for credentials that
// never expire (static keys). Source names where the credentials came from
// ("env", "profile dev", "imds", ...) and AccountID is the 12-digit account
// the keys belong to, when the source told it; neither is secret nor used in
// signing.
//
// The secret key and session token never appear in String, GoString, any
// fmt verb or slog output: they print as "[redacted]".
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string

	// Expires is when the credentials stop working; zero means never.
	Expires time.Time
	// Source names the source that produced the credentials.
	Source string
	// AccountID is the AWS account ID, when known.
	AccountID string
}

// CredentialsSource hands out credentials, fetching or refreshing them as
// needed. The AWS chain in auth/awscred satisfies it, and so does
// StaticCredentials. Implementations must be safe for concurrent use.
type CredentialsSource interface {
	Retrieve(ctx context.Context) (Credentials, error)
}

// StaticCredentials is a CredentialsSource that always returns itself.
type StaticCredentials Credentials

// Retrieve returns the credentials unchanged; it never fails.
func (s StaticCredentials) Retrieve(context.Context) (Credentials, error) {
	return Credentials(s), nil
}

// String formats the credentials with the secret and token redacted.
func (s StaticCredentials) String() string { return Credentials(s).String() }

// Format prints the redacted form for every verb.
func (s StaticCredentials) Format(f fmt.State, verb rune) { Credentials(s).Format(f, verb) }

// LogValue logs the redacted form.
func (s StaticCredentials) LogValue() slog.Value { return Credentials(s).LogValue() }

// HasKeys reports whether both the access key ID and the secret key are set.
func (c Credentials) HasKeys() bool { return c.AccessKeyID != "" && c.SecretAccessKey != "" }

// Expired reports whether the credentials have expired at now. Credentials
// with a zero Expires never expire. Expiry is exclusive: credentials whose
// Expires equals now are expired.
func (c Credentials) Expired(now time.Time) bool {
	return !c.Expires.IsZero() && !c.Expires.After(now)
}

const redacted = "[redacted]"

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// String returns a form safe to log: the access key ID, source, account and
// expiry, with the secret key and session token redacted.
func (c Credentials) String() string {
	exp := "never"
	if !c.Expires.IsZero() {
		exp = c.Expires.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("sigv4.Credentials{AccessKeyID: %q, SecretAccessKey: %q, SessionToken: %q, Expires: %s, Source: %q, AccountID: %q}",
		c.AccessKeyID, redact(c.SecretAccessKey), redact(c.SessionToken), exp, c.Source, c.AccountID)
}

// GoString is String, so %#v redacts too.
func (c Credentials) GoString() string { return c.String() }

// Format writes String for every verb (%v, %+v, %#v, %s, %q, ...), so no
// formatting path can print the secret.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", c.String())
		return
	}
	fmt.Fprint(f, c.String())
}

// LogValue makes slog print the redacted fields.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_key_id", c.AccessKeyID),
		slog.String("secret_access_key", redact(c.SecretAccessKey)),
		slog.String("session_token", redact(c.SessionToken)),
		slog.Time("expires", c.Expires),
		slog.String("source", c.Source),
		slog.String("account_id", c.AccountID),
	)
}
