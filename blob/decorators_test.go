package blob_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
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
	require.Contains(t, err.Error(), `attributes mem://`)
	require.Contains(t, err.Error(), `"missing": not found`)
	require.NotContains(t, err.Error(), "pre/")
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

// closeCounter is a driver over a bucket that counts Close calls.
type closeCounter struct {
	blob.Bucket
	closes int
}

func (c *closeCounter) Close() error                       { c.closes++; return c.Bucket.Close() }
func (c *closeCounter) ErrorDetail(error) blob.ErrorDetail { return blob.ErrorDetail{} }

func TestDecoratorsCloseAndAsReachTheInnerBucket(t *testing.T) {
	for name, wrap := range map[string]func(blob.Bucket) blob.Bucket{
		"Prefixed": func(b blob.Bucket) blob.Bucket { return blob.Prefixed(b, "p/") },
		"ReadOnly": blob.ReadOnly,
	} {
		t.Run(name, func(t *testing.T) {
			cc := &closeCounter{Bucket: newMem(t)}
			inner := blob.NewBucket("count", "c", cc)
			b := wrap(inner)
			require.NoError(t, b.Close())
			require.Equal(t, 1, cc.closes)
			_, err := inner.Attributes(context.Background(), "k")
			require.ErrorIs(t, err, blob.ErrInvalidArgument, "the view and the bucket share one life")
			require.ErrorIs(t, b.Close(), blob.ErrInvalidArgument)
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

// readMethods are the Bucket methods that change nothing. Every other method
// of the interface, including any added later, must be refused by ReadOnly:
// TestReadOnlyRefusesEveryWriteMethod calls them all by reflection.
var readMethods = map[string]bool{
	"NewRangeReader": true, "NewReader": true, "Attributes": true, "List": true,
	"SignedURL": true, // GET only; PUT and DELETE are checked in TestReadOnlyRefusesEveryChange
	"Close":     true,
}

func TestReadOnlyRefusesEveryWriteMethod(t *testing.T) {
	ctx := context.Background()
	inner := newMem(t)
	put(t, inner, "k", "v")
	ro := reflect.ValueOf(blob.ReadOnly(inner))
	iface := reflect.TypeOf((*blob.Bucket)(nil)).Elem()
	bd := reflect.TypeOf((*blob.BatchDeleter)(nil)).Elem()
	methods := map[string]reflect.Method{}
	for _, it := range []reflect.Type{iface, bd} {
		for i := range it.NumMethod() {
			if m := it.Method(i); m.IsExported() {
				methods[m.Name] = m
			}
		}
	}
	for name, m := range methods {
		if readMethods[name] {
			continue
		}
		t.Run(name, func(t *testing.T) {
			args := make([]reflect.Value, m.Type.NumIn())
			for i := range args {
				args[i] = argFor(t, ctx, m.Type.In(i))
			}
			out := ro.MethodByName(name).Call(args)
			err, _ := out[len(out)-1].Interface().(error)
			require.ErrorIs(t, err, blob.ErrPermissionDenied, "ReadOnly lets %s through", name)
		})
	}
	require.Equal(t, []string{"k"}, keys(t, inner, ""))
	got, err := blob.ReadAll(ctx, inner, "k")
	require.NoError(t, err)
	require.Equal(t, "v", string(got))
}

// argFor makes a plausible argument of type at for a Bucket method.
func argFor(t *testing.T, ctx context.Context, at reflect.Type) reflect.Value {
	switch {
	case at == reflect.TypeOf((*context.Context)(nil)).Elem():
		return reflect.ValueOf(ctx)
	case at.Kind() == reflect.String:
		return reflect.ValueOf("k").Convert(at)
	case at.Kind() == reflect.Slice && at.Elem().Kind() == reflect.String:
		return reflect.ValueOf([]string{"k"})
	case at.Kind() == reflect.Int64, at.Kind() == reflect.Int:
		return reflect.Zero(at)
	case at.Kind() == reflect.Pointer, at.Kind() == reflect.Interface, at.Kind() == reflect.Func:
		return reflect.Zero(at)
	}
	t.Fatalf("no argument for %v: teach argFor this type", at)
	return reflect.Value{}
}

func TestDecoratorsWrapOnce(t *testing.T) {
	ctx := context.Background()
	b := blob.ReadOnly(blob.Prefixed(blob.Prefixed(newMem(t), "a/"), "b/"))
	_, err := b.Attributes(ctx, "missing")
	var be *blob.Error
	require.ErrorAs(t, err, &be)
	require.Equal(t, "missing", be.Key)
	var inner *blob.Error
	require.False(t, be.Err != nil && errors.As(be.Err, &inner), "the cause is not another *blob.Error: %v", err)
	require.Equal(t, 1, strings.Count(err.Error(), "blob:"), err.Error())

	err = b.Delete(ctx, "k")
	require.ErrorIs(t, err, blob.ErrPermissionDenied)
	require.Equal(t, `blob: delete mem://TestDecoratorsWrapOnce "k": permission denied: bucket is read-only`, err.Error())
}

func TestCopyNamesTheMissingSource(t *testing.T) {
	ctx := context.Background()
	for name, b := range map[string]blob.Bucket{"plain": newMem(t), "prefixed": blob.Prefixed(newMem(t), "p/")} {
		t.Run(name, func(t *testing.T) {
			err := b.Copy(ctx, "dst", "src-missing", nil)
			require.ErrorIs(t, err, blob.ErrNotFound)
			var be *blob.Error
			require.ErrorAs(t, err, &be)
			require.Equal(t, "src-missing", be.Key)
			require.Equal(t, blob.OpCopy, be.Op)
		})
	}
}
