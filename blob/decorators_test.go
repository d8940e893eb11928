package blob_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

func TestPrefixedKeepsKeysUnderItsPrefix(t *testing.T) {
	ctx := context.Background()
	inner := newMem(t)
	put(t, inner, "outside", "x")
	p := blob.Prefixed(inner, "tenant/")

	put(t, p, "a/1", "one")
	put(t, p, "b", "two")
	require.NoError(t, p.Copy(ctx, "c", "b", nil))
	require.Equal(t, []string{"outside", "tenant/a/1", "tenant/b", "tenant/c"}, keys(t, inner, ""))

	page, err := p.List(ctx, &blob.ListOptions{Delimiter: "/"})
	require.NoError(t, err)
	require.Equal(t, []string{"a/"}, page.Prefixes)
	require.Len(t, page.Objects, 2)
	require.Equal(t, "b", page.Objects[0].Key)
	require.Equal(t, "c", page.Objects[1].Key)

	got, err := blob.ReadAll(ctx, p, "c")
	require.NoError(t, err)
	require.Equal(t, "two", string(got))
	_, err = p.Attributes(ctx, "outside")
	require.ErrorIs(t, err, blob.ErrNotFound, "keys outside the prefix are out of reach")

	n, err := blob.DeletePrefix(ctx, p, "")
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, []string{"outside"}, keys(t, inner, ""))
}

func TestPrefixedErrorsNameTheCallersKey(t *testing.T) {
	p := blob.Prefixed(newMem(t), "pre/")
	_, err := p.Attributes(context.Background(), "missing")
	var be *blob.Error
	require.ErrorAs(t, err, &be)
	require.Equal(t, "missing", be.Key)
	require.Contains(t, err.Error(), `Attributes "missing"`)
}

func TestPrefixedValidation(t *testing.T) {
	ctx := context.Background()
	inner := newMem(t)
	require.Equal(t, inner, blob.Prefixed(inner, ""), "an empty prefix is the bucket itself")

	_, err := blob.Prefixed(inner, "p/").Attributes(ctx, "")
	require.ErrorIs(t, err, blob.ErrInvalidArgument, "an empty key stays invalid under a prefix")

	bad := blob.Prefixed(inner, "bad\x00/")
	_, err = bad.Attributes(ctx, "k")
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	_, err = bad.List(ctx, nil)
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
}

// closeCounter counts Close calls on the bucket it wraps.
type closeCounter struct {
	blob.Bucket
	closes int
}

func (c *closeCounter) Close() error { c.closes++; return c.Bucket.Close() }

func TestDecoratorsCloseAndAsReachTheInnerBucket(t *testing.T) {
	for name, wrap := range map[string]func(blob.Bucket) blob.Bucket{
		"Prefixed": func(b blob.Bucket) blob.Bucket { return blob.Prefixed(b, "p/") },
		"ReadOnly": blob.ReadOnly,
	} {
		t.Run(name, func(t *testing.T) {
			cc := &closeCounter{Bucket: newMem(t)}
			b := wrap(cc)
			require.NoError(t, b.Close())
			require.Equal(t, 1, cc.closes)
		})
	}
}

func TestReadOnlyRefusesEveryChange(t *testing.T) {
	ctx := context.Background()
	inner := newMem(t)
	put(t, inner, "k", "v")
	ro := blob.ReadOnly(inner)

	got, err := blob.ReadAll(ctx, ro, "k")
	require.NoError(t, err)
	require.Equal(t, "v", string(got))
	require.Equal(t, []string{"k"}, keys(t, ro, ""))

	denied := map[string]error{
		"NewWriter": func() error { _, err := ro.NewWriter(ctx, "k", nil); return err }(),
		"WriteAll":  blob.WriteAll(ctx, ro, "new", []byte("x"), nil),
		"Delete":    ro.Delete(ctx, "k"),
		"Copy":      ro.Copy(ctx, "k2", "k", nil),
		"SignedURL PUT": func() error {
			_, err := ro.SignedURL(ctx, "k", &blob.SignedURLOptions{Method: http.MethodPut})
			return err
		}(),
		"DeletePrefix":   func() error { _, err := blob.DeletePrefix(ctx, ro, ""); return err }(),
		"DeleteKeys":     ro.(blob.BatchDeleter).DeleteKeys(ctx, []string{"k"}),
		"Delete missing": ro.Delete(ctx, "absent"),
	}
	for op, err := range denied {
		require.ErrorIs(t, err, blob.ErrPermissionDenied, op)
	}
	require.Equal(t, []string{"k"}, keys(t, inner, ""), "nothing changed")

	_, err = ro.NewWriter(ctx, "", nil)
	require.ErrorIs(t, err, blob.ErrInvalidArgument, "a bad key is reported as such, not as denied")

	_, err = ro.SignedURL(ctx, "k", nil)
	require.ErrorIs(t, err, blob.ErrNotImplemented, "a GET URL passes through to the bucket (mem has none)")
	require.False(t, errors.Is(err, blob.ErrPermissionDenied))
}
