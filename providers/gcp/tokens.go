package gcp

import (
	"context"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/anyblob/anyblob/internal/events"
)

// tokenWatch stands between the storage client and the credentials' token
// source, so that a token fetched anew (a refresh) can be told to whoever
// listens (blob.EventCredentialsRefresh, logged by blob.LogTo).
//
// The storage client asks for a token from inside its HTTP transport,
// where no caller's context is at hand. So each call of the driver, when
// its context has listeners, first asks for the token itself (check):
// a token that is about to expire is refreshed there, with the call's
// context, and told as that call's event. A refresh that happens anyway
// inside the transport (a call that outlasts its token) is counted and
// told by the next call that listens. Without listeners, check costs one
// context lookup and asks for nothing.
//
// A refresh is a token whose AccessToken differs from the last one seen;
// the first token is not a refresh. The token itself is never part of an
// event.
type tokenWatch struct {
	src    oauth2.TokenSource
	source string // the credentials' source, for the event's Detail

	mu      sync.Mutex
	last    *oauth2.Token
	pending int // refreshes not yet told
}

// watchTokens returns creds with its token source behind a tokenWatch, and
// the watch. creds itself is not changed.
func watchTokens(creds *google.Credentials, source string) (*google.Credentials, *tokenWatch) {
	w := &tokenWatch{src: creds.TokenSource, source: source}
	return &google.Credentials{
		ProjectID:              creds.ProjectID,
		TokenSource:            w,
		JSON:                   creds.JSON,
		UniverseDomainProvider: creds.GetUniverseDomain,
	}, w
}

// Token implements oauth2.TokenSource: the watched source's token, noting
// whether it is a new one.
func (w *tokenWatch) Token() (*oauth2.Token, error) {
	t, err := w.src.Token()
	if err != nil || t == nil {
		return t, err
	}
	w.mu.Lock()
	if w.last != nil && t != w.last && t.AccessToken != w.last.AccessToken {
		w.pending++
	}
	w.last = t
	w.mu.Unlock()
	return t, nil
}

// check tells ctx's listeners of the refreshes since the last check,
// asking for the token first so that one due now happens here. A nil w
// (no credentials) or a ctx without listeners does nothing. A failure to
// get the token is not reported here: the request that follows meets it
// and fails with it.
func (w *tokenWatch) check(ctx context.Context) {
	if w == nil || !events.Listening(ctx) {
		return
	}
	_, _ = w.Token()
	w.mu.Lock()
	n := w.pending
	w.pending = 0
	w.mu.Unlock()
	for range n {
		events.Notify(ctx, events.Event{Kind: events.CredentialsRefresh, Detail: "gcp: a new token from " + w.source})
	}
}
