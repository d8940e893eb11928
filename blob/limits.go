package blob

import (
	"context"
	"strings"
)

// Limits are the keys a backend stores, as its driver knows them: the
// longest, and which valid keys it refuses. The zero value means no limit
// beyond the portable ones (ValidateKey).
type Limits struct {
	// MaxKeyLen is the longest key, in bytes; 0 means MaxKeyLen.
	MaxKeyLen int
	// MaxSegmentLen is the longest part of a key between two '/', in
	// bytes, where the backend has such a limit (servers that keep objects
	// as files, such as MinIO, store at most 255 bytes a segment); 0 means
	// none but MaxKeyLen.
	MaxSegmentLen int
	// Refuses, when not nil, says why the backend refuses the valid key
	// with ErrInvalidArgument, or "" when it stores it: the keys an
	// S3-compatible server would store under another name ("a//b" on
	// MinIO). nil refuses none.
	Refuses func(key string) string
	// NoObjectFolders, when not "", says why the backend cannot hold an
	// object and keys under it as a folder at once ("a" beside "a/1"; a
	// folder marker "a/" is no object of that kind): the write of the
	// second fails with ErrInvalidArgument. "" means it can.
	NoObjectFolders string
}

// MaxSingleKeyLen is the longest key of one segment (no '/') the backend
// stores: the smaller of MaxKeyLen and MaxSegmentLen.
func (l Limits) MaxSingleKeyLen() int {
	n := l.MaxKeyLen
	if n <= 0 || n > MaxKeyLen {
		n = MaxKeyLen
	}
	if l.MaxSegmentLen > 0 {
		n = min(n, l.MaxSegmentLen)
	}
	return n
}

// Limiter is the optional Driver capability behind LimitsOf. A driver
// that must ask its server which server it is (an S3-compatible endpoint)
// may make one cheap request with ctx.
type Limiter interface {
	Limits(ctx context.Context) (Limits, error)
}

// LimitsOf returns the key limits of b, from its driver when the driver
// knows them (see Limiter), else the portable ones (Limits{MaxKeyLen:
// MaxKeyLen}); through Prefixed, the prefix's length is taken off. Errors
// are the driver's, wrapped as every error of b is.
func LimitsOf(ctx context.Context, b Bucket) (Limits, error) {
	s := b.shared()
	if err := s.check(ctx, "limits", "", false); err != nil {
		return Limits{}, err
	}
	l, err := limitsOf(ctx, s.d)
	if err != nil {
		return Limits{}, s.err(ctx, err, "limits", "")
	}
	return l, nil
}

func limitsOf(ctx context.Context, d Driver) (Limits, error) {
	if lim, ok := d.(Limiter); ok {
		l, err := lim.Limits(ctx)
		if err != nil {
			return Limits{}, err
		}
		if l.MaxKeyLen <= 0 || l.MaxKeyLen > MaxKeyLen {
			l.MaxKeyLen = MaxKeyLen
		}
		return l, nil
	}
	return Limits{MaxKeyLen: MaxKeyLen}, nil
}

// Limits implements Limiter: the inner limits less the prefix, and the
// inner refusals of the prefixed key.
func (p *prefixDriver) Limits(ctx context.Context) (Limits, error) {
	l, err := limitsOf(ctx, p.d)
	if err != nil {
		return l, err
	}
	l.MaxKeyLen -= len(p.prefix)
	if inner := l.Refuses; inner != nil {
		l.Refuses = func(key string) string { return inner(p.prefix + key) }
	}
	if l.MaxSegmentLen > 0 {
		// The prefix's last segment, if it does not end with '/', starts
		// the key's first one.
		l.MaxSegmentLen -= len(p.prefix) - strings.LastIndexByte(p.prefix, '/') - 1
	}
	return l, nil
}

// Limits implements Limiter.
func (r *readOnlyDriver) Limits(ctx context.Context) (Limits, error) { return limitsOf(ctx, r.d) }

// Borrow returns a view of b with a life of its own: closing the view
// makes it unusable (ErrInvalidArgument, "bucket is closed") but leaves b
// and its driver open. Hand it to code that closes what it is given (a
// test suite, a library) when b must outlive that code. Everything else is
// b's: the driver, keys, errors and observers.
func Borrow(b Bucket) Bucket {
	s := b.shared()
	v := s.view(borrowed{s.d})
	v.life = new(life)
	return v
}

// borrowed is a driver whose Close leaves the driver beneath open.
type borrowed struct{ Driver }

func (borrowed) Close() error { return nil }

// Limits implements Limiter.
func (b borrowed) Limits(ctx context.Context) (Limits, error) { return limitsOf(ctx, b.Driver) }

// As reaches the driver beneath.
func (b borrowed) As(target any) bool { return As(b.Driver, target) }

// DeleteKeys keeps the batch deletes of the driver beneath.
func (b borrowed) DeleteKeys(ctx context.Context, keys []string) error {
	return deleteKeys(ctx, b.Driver, keys)
}
