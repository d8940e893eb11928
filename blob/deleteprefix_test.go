package blob_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blob/memblob"
)

// hiding lists no key under "K/" while an object K exists, as MinIO does.
type hiding struct{ blob.Driver }

func (h hiding) List(ctx context.Context, opts *blob.ListOptions) (*blob.ListPage, error) {
	page, err := h.Driver.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	for _, o := range page.Objects {
		present[o.Key] = true
	}
	var kept []blob.ObjectInfo
	for _, o := range page.Objects {
		if i := strings.LastIndexByte(o.Key, '/'); i > 0 && present[o.Key[:i]] {
			continue
		}
		kept = append(kept, o)
	}
	page.Objects = kept
	return page, nil
}

// stuck never deletes the key "t/stuck".
type stuck struct{ blob.Driver }

func (s stuck) Delete(ctx context.Context, key string) error {
	if key == "t/stuck" {
		return nil
	}
	return s.Driver.Delete(ctx, key)
}

func TestDeletePrefixDeletesWhatAServerShowedLate(t *testing.T) {
	ctx := context.Background()
	base := memblob.New("late")
	for _, k := range []string{"t/a", "t/a/1", "t/a/2", "t/b", "u/keep"} {
		require.NoError(t, blob.WriteAll(ctx, base, k, []byte(k), nil))
	}
	b := blob.Wrap(base, func(d blob.Driver) blob.Driver { return hiding{d} })
	page, err := b.List(ctx, &blob.ListOptions{Prefix: "t/"})
	require.NoError(t, err)
	require.Len(t, page.Objects, 2, "t/a/1 and t/a/2 are hidden at first")

	n, err := blob.DeletePrefix(ctx, b, "t/")
	require.NoError(t, err)
	require.Equal(t, 4, n, "the hidden ones too, in a second pass")
	page, err = base.List(ctx, nil)
	require.NoError(t, err)
	require.Len(t, page.Objects, 1)
	require.Equal(t, "u/keep", page.Objects[0].Key)
}

func TestDeletePrefixReportsWhatIsLeft(t *testing.T) {
	ctx := context.Background()
	base := memblob.New("stuck")
	for _, k := range []string{"t/stuck", "t/x"} {
		require.NoError(t, blob.WriteAll(ctx, base, k, []byte(k), nil))
	}
	b := blob.Wrap(base, func(d blob.Driver) blob.Driver { return stuck{d} })
	n, err := blob.DeletePrefix(ctx, b, "t/")
	require.ErrorIs(t, err, blob.ErrInternal, "never a silent success")
	require.ErrorContains(t, err, "1 remain under the prefix after 3 passes")
	require.ErrorContains(t, err, `"t/"`)
	require.Equal(t, 1+blob.DeletePrefixRounds, n, "t/x once, t/stuck at every pass")
}
