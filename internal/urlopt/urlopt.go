// Package urlopt reads the parts of a bucket URL every provider's opener
// reads the same way: the bucket name and the query parameters.
package urlopt

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/anyblob/anyblob/blob"
)

// Bucket returns the bucket (or container) name of u, which must be
// scheme://NAME with no path: a prefix belongs to blob.Prefixed. what is
// "bucket" or "container", for the error. Errors are ErrInvalidArgument.
func Bucket(u *url.URL, what string) (string, error) {
	if u.Host == "" {
		return "", blob.Errorf(blob.ErrInvalidArgument, "%s: URL %q names no %s (want %s://%s)", u.Scheme, u.Redacted(), what, u.Scheme, strings.ToUpper(what))
	}
	if u.Path != "" && u.Path != "/" {
		return "", blob.Errorf(blob.ErrInvalidArgument, "%s: URL %q has a path; name only the %s (use blob.Prefixed for a prefix)", u.Scheme, u.Redacted(), what)
	}
	return u.Host, nil
}

// Params calls set for each query parameter of u (its last value), after
// checking every name is one of known; an unknown name is
// ErrInvalidArgument listing the known ones. set's errors are returned.
func Params(u *url.URL, known []string, set func(name, value string) error) error {
	q := u.Query()
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		ok := false
		for _, n := range known {
			ok = ok || n == k
		}
		if !ok {
			return blob.Errorf(blob.ErrInvalidArgument, "%s: unknown URL parameter %q (known: %s)", u.Scheme, k, strings.Join(known, ", "))
		}
		vs := q[k]
		if err := set(k, vs[len(vs)-1]); err != nil {
			return err
		}
	}
	return nil
}

// Bool parses a boolean parameter; a bad one is ErrInvalidArgument naming
// it.
func Bool(scheme, name, value string) (bool, error) {
	b, err := strconv.ParseBool(value)
	if err != nil {
		return false, blob.Errorf(blob.ErrInvalidArgument, "%s: URL parameter %s=%q is not a boolean", scheme, name, value)
	}
	return b, nil
}

// RetryParams are the query parameters every provider reads into its
// blob.RetryPolicy: max_attempts (1 means no retries) and retry_budget (a
// negative budget means none).
var RetryParams = []string{"max_attempts", "retry_budget"}

// Retry sets p from a RetryParams parameter and reports whether name was
// one. A value that is not an integer, or a max_attempts below 1, is
// ErrInvalidArgument naming it.
func Retry(scheme, name, value string, p *blob.RetryPolicy) (bool, error) {
	var dst *int
	switch name {
	case "max_attempts":
		dst = &p.MaxAttempts
	case "retry_budget":
		dst = &p.Budget
	default:
		return false, nil
	}
	n, err := strconv.Atoi(value)
	if err != nil || name == "max_attempts" && n < 1 {
		return true, blob.Errorf(blob.ErrInvalidArgument, "%s: URL parameter %s=%q is not a whole number%s", scheme, name, value,
			map[bool]string{true: " of at least 1", false: ""}[name == "max_attempts"])
	}
	*dst = n
	return true, nil
}
