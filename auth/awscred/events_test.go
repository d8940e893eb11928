package awscred_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/awscred"
	"github.com/anyblob/anyblob/internal/events"
)

// TestChainAnnouncesItsSource: the first fetch tells the listeners on its
// context which source the chain picked (and never the secret); an
// invalidated chain's next fetch is a refresh.
func TestChainAnnouncesItsSource(t *testing.T) {
	e := newEnv(t)
	e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"] = "AKIAENV", "env-secret-value"
	c, err := awscred.NewChain(&awscred.Options{Getenv: e.get})
	require.NoError(t, err)
	var heard []events.Event
	ctx := events.With(context.Background(), func(_ context.Context, ev events.Event) { heard = append(heard, ev) })
	_, err = c.Retrieve(ctx)
	require.NoError(t, err)
	_, err = c.Retrieve(ctx)
	require.NoError(t, err)
	require.Len(t, heard, 1, "cached credentials are no news")
	require.Equal(t, events.CredentialsSource, heard[0].Kind)
	require.Contains(t, heard[0].Detail, "env")
	c.Invalidate()
	_, err = c.Retrieve(ctx)
	require.NoError(t, err)
	require.Len(t, heard, 2)
	require.Equal(t, events.CredentialsRefresh, heard[1].Kind)
	for _, ev := range heard {
		require.False(t, strings.Contains(ev.Detail, "env-secret-value"), ev.Detail)
	}
}
