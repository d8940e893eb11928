package azurecred

// An internal test: the chain's sources are azidentity credentials that
// read the process environment and reach real endpoints, so to choose
// which source answers (and with which token) this file builds the Chain
// from its unexported sources directly.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/events"
)

// The tokens the fake sources give: distinctive, so that a leak into an
// event or a log line is found by a plain substring search.
const (
	chosenToken = "tok-SECRET-123"
	unusedToken = "tok-SECRET-CLI-456"
)

// fakeCred is a token source that gives token, or fails with err, and
// counts how often it was asked.
type fakeCred struct {
	token string
	err   error
	calls atomic.Int32
}

// GetToken implements azcore.TokenCredential.
func (f *fakeCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.calls.Add(1)
	if f.err != nil {
		return azcore.AccessToken{}, f.err
	}
	return azcore.AccessToken{Token: f.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// The reasons the fake chain's first two sources give for not being used.
const (
	envWhy      = "AZURE_TENANT_ID, AZURE_CLIENT_ID and a secret or certificate are not all set"
	workloadErr = "federated token file /var/run/secrets/azure/tokens/token is empty"
)

// fakeChain is a chain whose environment source is not configured, whose
// workload identity fails, whose managed identity gives chosenToken, and
// whose Azure CLI would give unusedToken but must never be asked.
func fakeChain() (c *Chain, workload, managed, cli *fakeCred) {
	workload = &fakeCred{err: errors.New(workloadErr)}
	managed = &fakeCred{token: chosenToken}
	cli = &fakeCred{token: unusedToken}
	c = &Chain{sources: []source{
		{name: "environment", why: envWhy},
		{name: "workload identity", cred: workload},
		{name: "managed identity", cred: managed},
		{name: "azure cli", cred: cli},
	}}
	return c, workload, managed, cli
}

// recorder keeps the events its sink hears.
type recorder struct {
	mu  sync.Mutex
	got []events.Event
}

// sink is the events.Sink that records.
func (r *recorder) sink(_ context.Context, e events.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, e)
}

// take returns the events heard since the last take.
func (r *recorder) take() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// requireNoToken fails when e carries either fake token.
func requireNoToken(t *testing.T, e events.Event) {
	t.Helper()
	for _, tok := range []string{chosenToken, unusedToken, "tok-SECRET"} {
		require.NotContains(t, e.Detail, tok, "event %s", e.Kind)
		if e.Err != nil {
			require.NotContains(t, e.Err.Error(), tok, "event %s", e.Kind)
		}
	}
}

var scope = policy.TokenRequestOptions{Scopes: []string{"https://storage.azure.com/.default"}}

// TestChainTellsItsSourceThenEachRefresh: the first GetToken, which picks
// the source, is one CredentialsSource event naming the source and why
// the ones before it were passed over; every later GetToken (the bearer
// policy asks only when its token is about to expire) is one
// CredentialsRefresh naming the source. No event carries the token.
func TestChainTellsItsSourceThenEachRefresh(t *testing.T) {
	c, workload, managed, cli := fakeChain()
	rec := &recorder{}
	ctx := events.With(context.Background(), rec.sink)

	tok, err := c.GetToken(ctx, scope)
	require.NoError(t, err)
	require.Equal(t, chosenToken, tok.Token)
	got := rec.take()
	require.Len(t, got, 1, "one event for the choice: %+v", got)
	require.Equal(t, events.CredentialsSource, got[0].Kind)
	d := got[0].Detail
	require.Contains(t, d, "managed identity: used", "names the source chosen")
	require.Contains(t, d, "environment: skipped ("+envWhy+")", "says why a source was skipped")
	require.Contains(t, d, "workload identity: failed: "+workloadErr, "says why a source failed")
	require.NotContains(t, d, "azure cli", "a source after the chosen one was not considered")
	requireNoToken(t, got[0])

	for i := range 2 {
		tok, err = c.GetToken(ctx, scope)
		require.NoError(t, err)
		require.Equal(t, chosenToken, tok.Token)
		got = rec.take()
		require.Len(t, got, 1, "refresh %d: one event: %+v", i+1, got)
		require.Equal(t, events.CredentialsRefresh, got[0].Kind, "refresh %d", i+1)
		require.Contains(t, got[0].Detail, "managed identity", "refresh %d names the source", i+1)
		requireNoToken(t, got[0])
	}

	require.Equal(t, int32(3), managed.calls.Load(), "every call asks the chosen source")
	require.Equal(t, int32(1), workload.calls.Load(), "a failed source is not asked again")
	require.Zero(t, cli.calls.Load(), "the sources after the chosen one are never asked")
}

// TestChainEventsAreLoggedWithoutTheToken follows the same two calls
// through blob.LogTo's Event, as a program that logs its buckets hears
// them (blob.WithEvents): a line for the choice, naming the source, and a
// line for the refresh; neither quotes the token.
func TestChainEventsAreLoggedWithoutTheToken(t *testing.T) {
	c, _, _, _ := fakeChain()
	var buf bytes.Buffer
	lo := blob.LogTo(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), nil)
	ctx := blob.WithEvents(context.Background(), lo.Event)

	_, err := c.GetToken(ctx, scope)
	require.NoError(t, err)
	_, err = c.GetToken(ctx, scope)
	require.NoError(t, err)

	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, "one line per event:\n%s", out)
	require.Contains(t, lines[0], `msg="blob `+blob.EventCredentialsSource+`"`)
	require.Contains(t, lines[0], "managed identity: used")
	require.Contains(t, lines[0], "environment: skipped")
	require.Contains(t, lines[1], `msg="blob `+blob.EventCredentialsRefresh+`"`)
	require.Contains(t, lines[1], `detail="azure: a new token from managed identity"`)
	require.NotContains(t, out, "tok-SECRET", "no token in the log")
}
