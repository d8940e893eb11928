package blob

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Prefixed returns a Bucket that keeps every key of b under prefix: key k
// is stored as prefix+k, List sees only keys under prefix and returns them
// with prefix removed, and tokens, Copy, SignedURL and DeleteKeys work the
// same way. The combined key must follow the key rules, so prefix shortens
// the longest key allowed; an empty key is still ErrInvalidArgument. A
// prefix that is not valid UTF-8 or holds a NUL makes every call fail with
// ErrInvalidArgument. An empty prefix returns b itself.
//
// Errors name the key as the caller gave it. Close closes b. As reaches b's
// native types.
func Prefixed(b Bucket, prefix string) Bucket {
	if prefix == "" {
		return b
	}
	return &prefixed{b: b, prefix: prefix}
}

type prefixed struct {
	b      Bucket
	prefix string
}

// key checks the caller's key and returns the full key.
func (p *prefixed) key(ctx context.Context, op, key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", wrapError(ctx, err, "", "", op, key)
	}
	if err := ValidateKey(p.prefix); err != nil {
		return "", wrapError(ctx, Errorf(ErrInvalidArgument, "bad prefix for Prefixed: %v", err), "", "", op, key)
	}
	return p.prefix + key, nil
}

// unprefix rewrites an error's key to the caller's form.
func (p *prefixed) unprefix(err error) error {
	var be *Error
	if errors.As(err, &be) && strings.HasPrefix(be.Key, p.prefix) {
		c := *be
		c.Key = strings.TrimPrefix(be.Key, p.prefix)
		return &c
	}
	return err
}

func (p *prefixed) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *ReaderOptions) (Reader, error) {
	k, err := p.key(ctx, "NewRangeReader", key)
	if err != nil {
		return nil, err
	}
	r, err := p.b.NewRangeReader(ctx, k, offset, length, opts)
	return r, p.unprefix(err)
}

func (p *prefixed) NewWriter(ctx context.Context, key string, opts *WriterOptions) (Writer, error) {
	k, err := p.key(ctx, "NewWriter", key)
	if err != nil {
		return nil, err
	}
	w, err := p.b.NewWriter(ctx, k, opts)
	return w, p.unprefix(err)
}

func (p *prefixed) Attributes(ctx context.Context, key string) (*Attributes, error) {
	k, err := p.key(ctx, "Attributes", key)
	if err != nil {
		return nil, err
	}
	a, err := p.b.Attributes(ctx, k)
	return a, p.unprefix(err)
}

func (p *prefixed) List(ctx context.Context, opts *ListOptions) (*ListPage, error) {
	if err := ValidateKey(p.prefix); err != nil {
		return nil, wrapError(ctx, Errorf(ErrInvalidArgument, "bad prefix for Prefixed: %v", err), "", "", "List", "")
	}
	o := ListOptions{}
	if opts != nil {
		o = *opts
	}
	o.Prefix = p.prefix + o.Prefix
	page, err := p.b.List(ctx, &o)
	if err != nil {
		return nil, p.unprefix(err)
	}
	out := &ListPage{NextPageToken: page.NextPageToken}
	if len(page.Objects) > 0 {
		out.Objects = make([]ObjectInfo, len(page.Objects))
		for i, obj := range page.Objects {
			obj.Key = strings.TrimPrefix(obj.Key, p.prefix)
			out.Objects[i] = obj
		}
	}
	if len(page.Prefixes) > 0 {
		out.Prefixes = make([]string, len(page.Prefixes))
		for i, pre := range page.Prefixes {
			out.Prefixes[i] = strings.TrimPrefix(pre, p.prefix)
		}
	}
	return out, nil
}

func (p *prefixed) Delete(ctx context.Context, key string) error {
	k, err := p.key(ctx, "Delete", key)
	if err != nil {
		return err
	}
	return p.unprefix(p.b.Delete(ctx, k))
}

// DeleteKeys deletes the prefixed keys, in one batch when b can.
func (p *prefixed) DeleteKeys(ctx context.Context, keys []string) error {
	full := make([]string, len(keys))
	for i, key := range keys {
		k, err := p.key(ctx, "DeleteKeys", key)
		if err != nil {
			return err
		}
		full[i] = k
	}
	if bd, ok := p.b.(BatchDeleter); ok {
		return p.unprefix(bd.DeleteKeys(ctx, full))
	}
	for _, k := range full {
		if err := p.b.Delete(ctx, k); err != nil {
			return p.unprefix(err)
		}
	}
	return nil
}

func (p *prefixed) Copy(ctx context.Context, dstKey, srcKey string, opts *CopyOptions) error {
	dst, err := p.key(ctx, "Copy", dstKey)
	if err != nil {
		return err
	}
	src, err := p.key(ctx, "Copy", srcKey)
	if err != nil {
		return err
	}
	return p.unprefix(p.b.Copy(ctx, dst, src, opts))
}

func (p *prefixed) SignedURL(ctx context.Context, key string, opts *SignedURLOptions) (string, error) {
	k, err := p.key(ctx, "SignedURL", key)
	if err != nil {
		return "", err
	}
	u, err := p.b.SignedURL(ctx, k, opts)
	return u, p.unprefix(err)
}

func (p *prefixed) Close() error { return p.b.Close() }

func (p *prefixed) As(target any) bool { return As(p.b, target) }

// ReadOnly returns a Bucket that reads through b and refuses every change:
// NewWriter, Delete, DeleteKeys, Copy, and SignedURL for PUT or DELETE fail
// with ErrPermissionDenied (after the key rules, so a bad key is still
// ErrInvalidArgument). Close closes b; As reaches b's native types.
func ReadOnly(b Bucket) Bucket { return &readOnly{Bucket: b} }

type readOnly struct{ Bucket }

func (r *readOnly) deny(ctx context.Context, op, key string) error {
	if err := ValidateKey(key); err != nil {
		return wrapError(ctx, err, "", "", op, key)
	}
	return wrapError(ctx, Errorf(ErrPermissionDenied, "bucket is read-only"), "", "", op, key)
}

func (r *readOnly) NewWriter(ctx context.Context, key string, _ *WriterOptions) (Writer, error) {
	return nil, r.deny(ctx, "NewWriter", key)
}

func (r *readOnly) Delete(ctx context.Context, key string) error {
	return r.deny(ctx, "Delete", key)
}

// DeleteKeys refuses, so DeletePrefix on a read-only bucket fails.
func (r *readOnly) DeleteKeys(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return r.deny(ctx, "DeleteKeys", keys[0])
}

func (r *readOnly) Copy(ctx context.Context, dstKey, _ string, _ *CopyOptions) error {
	return r.deny(ctx, "Copy", dstKey)
}

func (r *readOnly) SignedURL(ctx context.Context, key string, opts *SignedURLOptions) (string, error) {
	if opts != nil && opts.Method != "" && opts.Method != http.MethodGet {
		return "", r.deny(ctx, "SignedURL", key)
	}
	return r.Bucket.SignedURL(ctx, key, opts)
}

func (r *readOnly) As(target any) bool { return As(r.Bucket, target) }
