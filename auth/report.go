// Package auth holds what the credential chains for the three clouds share:
// a credential cache with single-flight refresh, and the report of which
// source a chain used and why the others were passed over.
//
// The chains themselves live in sub-packages, so that a program that needs
// one cloud compiles only that cloud's libraries: auth/awscred (written
// in-house, signing with auth/sigv4), auth/azurecred (azidentity) and
// auth/gcpcred (golang.org/x/oauth2/google).
package auth

import (
	"fmt"
	"strings"
)

// Outcome is what a chain did with one source.
type Outcome int

const (
	// Skipped means the source was not configured or was disabled; Reason says which.
	Skipped Outcome = iota
	// Failed means the source was configured but could not produce credentials; Err says why.
	Failed
	// Used means the source produced the credentials the chain returned.
	Used
)

// String returns "skipped", "failed" or "used".
func (o Outcome) String() string {
	switch o {
	case Skipped:
		return "skipped"
	case Failed:
		return "failed"
	case Used:
		return "used"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Attempt is one source's line in a Report.
type Attempt struct {
	// Source names the source, for example "env", "profile dev", "imds".
	Source  string
	Outcome Outcome
	// Reason says why a source was skipped, or what was used ("static keys").
	Reason string
	// Err is why a source failed; nil otherwise. It never holds a secret.
	Err error
}

// String formats the attempt as "source: outcome (reason)".
func (a Attempt) String() string {
	var b strings.Builder
	b.WriteString(a.Source)
	b.WriteString(": ")
	b.WriteString(a.Outcome.String())
	if a.Reason != "" {
		b.WriteString(" (")
		b.WriteString(a.Reason)
		b.WriteString(")")
	}
	if a.Err != nil {
		b.WriteString(": ")
		b.WriteString(a.Err.Error())
	}
	return b.String()
}

// Report is a chain's account of its decision: every source, in the order the
// chain considers them, with what happened to it. The zero value is an empty
// report.
type Report struct {
	// Chain names the chain: "aws", "azure" or "gcp".
	Chain    string
	Attempts []Attempt
}

// Add appends an attempt.
func (r *Report) Add(a Attempt) { r.Attempts = append(r.Attempts, a) }

// Used returns the attempt whose source was used, if any.
func (r Report) Used() (Attempt, bool) {
	for _, a := range r.Attempts {
		if a.Outcome == Used {
			return a, true
		}
	}
	return Attempt{}, false
}

// String lists every attempt on its own line, indented under the chain name.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s credential chain:", r.Chain)
	for _, a := range r.Attempts {
		b.WriteString("\n  ")
		b.WriteString(a.String())
	}
	return b.String()
}

// NoCredentialsError is returned by a chain when no source produced
// credentials. Its message lists every source tried and why each was skipped
// or failed, so a user sees at a glance why nothing was found. A chain never
// falls back to anonymous access on its own.
type NoCredentialsError struct {
	Report Report
}

// Error lists the sources and their outcomes.
func (e *NoCredentialsError) Error() string {
	return "no credentials found: " + e.Report.String()
}

// Unwrap returns the errors of the sources that failed, so errors.Is and
// errors.As reach them.
func (e *NoCredentialsError) Unwrap() []error {
	var errs []error
	for _, a := range e.Report.Attempts {
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
	}
	return errs
}
