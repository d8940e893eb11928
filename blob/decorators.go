package blob

import (
	"context"
	"net/http"
	"strings"
)

// Prefixed returns a view of b that keeps every key under prefix: key k is
// stored as prefix+k, List sees only keys under prefix and returns them
// with prefix removed, and tokens, Copy, SignedURL and DeleteKeys work the
// same way. The combined key must follow the key rules, so prefix shortens
// the longest key allowed; an empty key is still ErrInvalidArgument. A
// prefix that is not valid UTF-8 or holds a NUL makes every call fail with
// ErrInvalidArgument. An empty prefix returns b itself.
//
// The view wraps b's driver, not b: keys are checked and errors wrapped
// once, and errors name the key as the caller gave it. It shares b's
// driver, so Close closes both; As reaches b's native types.
func Prefixed(b Bucket, prefix string) Bucket {
	if prefix == "" {
		return b
	}
	s := b.shared()
	return s.view(&prefixDriver{d: s.d, prefix: prefix})
}

type prefixDriver struct {
	d      Driver
	prefix string
}

// key returns the full key, or why it cannot be one.
func (p *prefixDriver) key(key string) (string, error) {
	if err := ValidateKey(p.prefix); err != nil {
		return "", Errorf(ErrInvalidArgument, "bad prefix for Prefixed: %v", err.(*Error).Err)
	}
	full := p.prefix + key
	if len(full) > MaxKeyLen {
		return "", Errorf(ErrInvalidArgument, "key is %d bytes, and with the prefix %d: more than %d", len(key), len(full), MaxKeyLen)
	}
	return full, nil
}

func (p *prefixDriver) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *ReaderOptions) (Reader, error) {
	k, err := p.key(key)
	if err != nil {
		return nil, err
	}
	return p.d.NewRangeReader(ctx, k, offset, length, opts)
}

func (p *prefixDriver) NewWriter(ctx context.Context, key string, opts *WriterOptions) (Writer, error) {
	k, err := p.key(key)
	if err != nil {
		return nil, err
	}
	return p.d.NewWriter(ctx, k, opts)
}

func (p *prefixDriver) Attributes(ctx context.Context, key string) (*Attributes, error) {
	k, err := p.key(key)
	if err != nil {
		return nil, err
	}
	return p.d.Attributes(ctx, k)
}

func (p *prefixDriver) List(ctx context.Context, opts *ListOptions) (*ListPage, error) {
	if err := ValidateKey(p.prefix); err != nil {
		return nil, Errorf(ErrInvalidArgument, "bad prefix for Prefixed: %v", err.(*Error).Err)
	}
	o := *opts
	o.Prefix = p.prefix + o.Prefix
	page, err := p.d.List(ctx, &o)
	if err != nil {
		return nil, err
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

func (p *prefixDriver) Delete(ctx context.Context, key string) error {
	k, err := p.key(key)
	if err != nil {
		return err
	}
	return p.d.Delete(ctx, k)
}

// DeleteKeys deletes the prefixed keys through the shared batch rule.
func (p *prefixDriver) DeleteKeys(ctx context.Context, keys []string) error {
	full := make([]string, len(keys))
	for i, key := range keys {
		k, err := p.key(key)
		if err != nil {
			return err
		}
		full[i] = k
	}
	return deleteKeys(ctx, p.d, full)
}

func (p *prefixDriver) Copy(ctx context.Context, dstKey, srcKey string, opts *CopyOptions) error {
	dst, err := p.key(dstKey)
	if err != nil {
		return err
	}
	src, err := p.key(srcKey)
	if err != nil {
		return err
	}
	return p.d.Copy(ctx, dst, src, opts)
}

func (p *prefixDriver) SignedURL(ctx context.Context, key string, opts *SignedURLOptions) (string, error) {
	k, err := p.key(key)
	if err != nil {
		return "", err
	}
	return p.d.SignedURL(ctx, k, opts)
}

func (p *prefixDriver) Close() error                      { return p.d.Close() }
func (p *prefixDriver) ErrorDetail(err error) ErrorDetail { return p.d.ErrorDetail(err) }
func (p *prefixDriver) As(target any) bool                { return As(p.d, target) }

// ReadOnly returns a view of b that reads and refuses every change:
// NewWriter, Delete, DeleteKeys, Copy, and SignedURL for PUT or DELETE fail
// with ErrPermissionDenied (after the key rules, so a bad key is still
// ErrInvalidArgument). It shares b's driver, so Close closes both; As
// reaches b's native types.
//
// The view wraps the driver with a type that spells out every Driver method
// and embeds none, so a method added to Driver later does not compile until
// someone decides whether it reads or writes.
func ReadOnly(b Bucket) Bucket {
	s := b.shared()
	return s.view(&readOnlyDriver{d: s.d})
}

type readOnlyDriver struct{ d Driver }

var errReadOnly = Errorf(ErrPermissionDenied, "bucket is read-only")

func (r *readOnlyDriver) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *ReaderOptions) (Reader, error) {
	return r.d.NewRangeReader(ctx, key, offset, length, opts)
}

func (r *readOnlyDriver) NewWriter(context.Context, string, *WriterOptions) (Writer, error) {
	return nil, errReadOnly
}

func (r *readOnlyDriver) Attributes(ctx context.Context, key string) (*Attributes, error) {
	return r.d.Attributes(ctx, key)
}

func (r *readOnlyDriver) List(ctx context.Context, opts *ListOptions) (*ListPage, error) {
	return r.d.List(ctx, opts)
}

func (r *readOnlyDriver) Delete(context.Context, string) error { return errReadOnly }

// DeleteKeys refuses, so DeletePrefix on a read-only bucket fails.
func (r *readOnlyDriver) DeleteKeys(context.Context, []string) error { return errReadOnly }

func (r *readOnlyDriver) Copy(context.Context, string, string, *CopyOptions) error {
	return errReadOnly
}

func (r *readOnlyDriver) SignedURL(ctx context.Context, key string, opts *SignedURLOptions) (string, error) {
	if opts.Method != http.MethodGet {
		return "", errReadOnly
	}
	return r.d.SignedURL(ctx, key, opts)
}

func (r *readOnlyDriver) Close() error                      { return r.d.Close() }
func (r *readOnlyDriver) ErrorDetail(err error) ErrorDetail { return r.d.ErrorDetail(err) }
func (r *readOnlyDriver) As(target any) bool                { return As(r.d, target) }

// Wrap returns a view of b whose driver is wrap(d), where d is the driver
// beneath b (beneath any views b already is). It is the seam for
// decorators that live outside this package (fault injection, caching,
// recording): the view checks keys and options, wraps errors once and
// passes observers exactly like b, and shares b's life, so Close closes
// both. The Driver wrap returns follows the Driver contract: it calls d
// (or fails on its own, with errors from Errorf or d's own) and forwards
// ErrorDetail to d. Optional capabilities (BatchDeleter, Aser) are those of
// the returned Driver. A nil result returns b itself.
func Wrap(b Bucket, wrap func(d Driver) Driver) Bucket {
	s := b.shared()
	d := wrap(s.d)
	if d == nil {
		return b
	}
	return s.view(d)
}
