// Package conformance is the suite every blob.Bucket passes: memblob,
// fileblob, the S3, Azure and GCS drivers, and any bucket a user writes or
// wraps. Run it from a test:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.Harness{
//			Open: func(t *testing.T) blob.Bucket { return memblob.New(t.Name()) },
//			Lacks: map[conformance.Capability]string{
//				conformance.SignedURL: "memory buckets have no server to sign for",
//			},
//		})
//	}
//
// The checks are grouped by concern (read, write, attributes, list,
// conditional, copy, delete, errors, signed URLs, large, concurrency), each a
// named subtest that opens its own empty bucket. What a backend cannot do is
// declared in Harness.Lacks; the suite then checks that the backend says so
// with blob.ErrNotImplemented, and logs it, instead of skipping.
package conformance

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

// Capability names an optional feature a backend may lack.
type Capability string

// The optional capabilities.
const (
	// SignedURL is blob.Bucket.SignedURL for GET, PUT and DELETE.
	SignedURL Capability = "SignedURL"
	// Tags is blob.WriterOptions.Tags, returned by Attributes and kept by
	// Copy (GCS has no object tags).
	Tags Capability = "Tags"
)

// DefaultLargeSize is Harness.LargeSize when it is 0: 24 MiB.
const DefaultLargeSize = 24 << 20

// Harness describes the backend under test.
type Harness struct {
	// Open returns a new, empty bucket for the calling (sub)test. It is
	// called once per check; the suite closes the bucket when the check
	// ends, so Open should register any other cleanup (deleting a cloud
	// bucket, say) with t.Cleanup. Required.
	Open func(t *testing.T) blob.Bucket
	// Lacks declares the capabilities the backend does not have, each with
	// the reason. For each, the suite checks that the backend returns
	// blob.ErrNotImplemented and logs the reason. nil means it has them all.
	Lacks map[Capability]string
	// LargeSize is the size in bytes of the objects of the large and
	// streaming checks; 0 means DefaultLargeSize. Values under 20 MiB are
	// raised to 20 MiB.
	LargeSize int64
	// HTTPClient sends the requests of the signed URL checks; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	// UncheckedSignedURLs, when not "", says why the server accepts signed
	// URLs without checking their signature, method or expiry (an emulator
	// that does not verify them). The checks that need a server to refuse a
	// URL then log that reason instead of asserting the refusal; the others
	// still run.
	UncheckedSignedURLs string
	// MaxKeyLen is the longest key (of one segment) the bucket under test
	// accepts; 0 means what its driver says (blob.LimitsOf: MinIO's 255
	// bytes a segment, the prefix of a blob.Prefixed view taken off).
	MaxKeyLen int
}

// InBucket returns a Harness that runs the suite inside one existing
// bucket b, a user's own included: every check gets a fresh prefix of its
// own under prefix (prefix, a sequence number and a random tag, then "/"),
// through a borrowed view (blob.Borrow), so the suite never closes b; what
// a check leaves is deleted when it ends. The key limits come from b's
// driver (blob.LimitsOf), the prefix's length taken off. Set Lacks,
// HTTPClient or UncheckedSignedURLs on the result as the backend needs.
//
// prefix should be a folder no one else writes to ("conformance/" say);
// "" runs at the bucket's root, which must then be empty.
func InBucket(b blob.Bucket, prefix string) Harness {
	var n atomic.Int64
	return Harness{Open: func(t *testing.T) blob.Bucket {
		sub := fmt.Sprintf("%s%03d-%08x/", prefix, n.Add(1), rand.Uint32())
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if _, err := blob.DeletePrefix(ctx, b, sub); err != nil {
				t.Errorf("conformance: cleaning %q: %v", sub, err)
			}
		})
		return blob.Prefixed(blob.Borrow(b), sub)
	}}
}

// Run runs every check against the backend h describes.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("conformance: Harness.Open is required")
	}
	s := &suite{h: h}
	for _, g := range []struct {
		name   string
		checks []check
	}{
		{"read", readChecks},
		{"write", writeChecks},
		{"attributes", attributeChecks},
		{"list", listChecks},
		{"conditional", conditionalChecks},
		{"copy", copyChecks},
		{"delete", deleteChecks},
		{"errors", errorChecks},
		{"signedurl", signedURLChecks},
		{"large", largeChecks},
		{"concurrency", concurrencyChecks},
		{"hooks", hookChecks},
	} {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.checks {
				t.Run(c.name, func(t *testing.T) { c.run(t, s) })
			}
		})
	}
}

// Checks returns the number of checks Run runs.
func Checks() int {
	n := 0
	for _, g := range [][]check{
		readChecks, writeChecks, attributeChecks, listChecks, conditionalChecks, copyChecks,
		deleteChecks, errorChecks, signedURLChecks, largeChecks, concurrencyChecks, hookChecks,
	} {
		n += len(g)
	}
	return n
}

// check is one named check.
type check struct {
	name string
	run  func(t *testing.T, s *suite)
}

type suite struct{ h Harness }

// open returns a new empty bucket closed when t ends.
func (s *suite) open(t *testing.T) blob.Bucket {
	t.Helper()
	b := s.h.Open(t)
	require.NotNil(t, b, "Harness.Open returned nil")
	t.Cleanup(func() { b.Close() })
	return b
}

func (s *suite) lacks(c Capability) (string, bool) {
	why, ok := s.h.Lacks[c]
	return why, ok
}

func (s *suite) largeSize() int64 {
	switch {
	case s.h.LargeSize == 0:
		return DefaultLargeSize
	case s.h.LargeSize < 20<<20:
		return 20 << 20
	}
	return s.h.LargeSize
}

// limits returns b's key limits (blob.LimitsOf).
func (s *suite) limits(t *testing.T, b blob.Bucket) blob.Limits {
	t.Helper()
	l, err := blob.LimitsOf(t.Context(), b)
	require.NoError(t, err, "blob.LimitsOf")
	return l
}

// refused reports why b refuses key ("" when it stores it), as its driver
// declares (blob.Limits.Refuses).
func (s *suite) refused(t *testing.T, b blob.Bucket, key string) string {
	if l := s.limits(t, b); l.Refuses != nil {
		return l.Refuses(key)
	}
	return ""
}

// maxKeyLen is the longest one-segment key b accepts: Harness.MaxKeyLen,
// else what b's driver says.
func (s *suite) maxKeyLen(t *testing.T, b blob.Bucket) int {
	t.Helper()
	if s.h.MaxKeyLen > 0 {
		return s.h.MaxKeyLen
	}
	l, err := blob.LimitsOf(t.Context(), b)
	require.NoError(t, err, "blob.LimitsOf")
	return l.MaxSingleKeyLen()
}

func (s *suite) client() *http.Client {
	if s.h.HTTPClient != nil {
		return s.h.HTTPClient
	}
	return http.DefaultClient
}

// sentinels are the nine kinds every error must match exactly one of.
var sentinels = []error{
	blob.ErrNotFound, blob.ErrPreconditionFailed, blob.ErrPermissionDenied,
	blob.ErrUnauthenticated, blob.ErrInvalidArgument, blob.ErrNotImplemented,
	blob.ErrThrottled, blob.ErrCanceled, blob.ErrInternal,
}

// requireKind checks that err is a *blob.Error matching kind and no other
// sentinel.
func requireKind(t *testing.T, err error, kind error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	var matched []error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			matched = append(matched, s)
		}
	}
	require.Equal(t, []error{kind}, matched, "error %q must match exactly the sentinel %q; %v", err, kind, msgAndArgs)
	var be *blob.Error
	require.ErrorAs(t, err, &be, "every bucket error is a *blob.Error: %v", err)
}

// put writes body at key with opts, failing the check on error.
func put(t *testing.T, b blob.Bucket, key string, body []byte, opts *blob.WriterOptions) {
	t.Helper()
	require.NoError(t, blob.WriteAll(t.Context(), b, key, body, opts), "writing %q", key)
}

// get reads key whole, failing the check on error.
func get(t *testing.T, b blob.Bucket, key string) []byte {
	t.Helper()
	data, err := blob.ReadAll(t.Context(), b, key)
	require.NoError(t, err, "reading %q", key)
	return data
}

// exists reports whether key exists.
func exists(t *testing.T, b blob.Bucket, key string) bool {
	t.Helper()
	ok, err := blob.Exists(t.Context(), b, key)
	require.NoError(t, err, "checking %q", key)
	return ok
}

// listAll lists every page and returns the keys and prefixes in the order
// they came, checking that no entry repeats.
func listAll(t *testing.T, b blob.Bucket, opts blob.ListOptions) (keys, prefixes []string) {
	t.Helper()
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10_000, "List never ended")
		page, err := b.List(t.Context(), &opts)
		require.NoError(t, err)
		if opts.PageSize > 0 {
			require.LessOrEqual(t, len(page.Objects)+len(page.Prefixes), opts.PageSize, "page larger than PageSize")
		}
		for _, o := range page.Objects {
			require.False(t, seen["k"+o.Key], "key %q listed twice", o.Key)
			seen["k"+o.Key] = true
			keys = append(keys, o.Key)
		}
		for _, p := range page.Prefixes {
			require.False(t, seen["p"+p], "prefix %q listed twice", p)
			seen["p"+p] = true
			prefixes = append(prefixes, p)
		}
		if page.NextPageToken == "" {
			return keys, prefixes
		}
		opts.PageToken = page.NextPageToken
	}
}

// sorted returns a sorted copy.
func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// payload returns n deterministic pseudo-random bytes for seed.
func payload(seed uint64, n int) []byte {
	b := make([]byte, n)
	fill(rand.New(rand.NewPCG(seed, uint64(n))), b)
	return b
}

func fill(r *rand.Rand, b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
}

// stream is an io.Reader of n deterministic pseudo-random bytes that holds
// only a small buffer, so large checks need not keep objects in memory.
type stream struct {
	r    *rand.Rand
	left int64
	buf  []byte
}

func newStream(seed uint64, n int64) *stream {
	return &stream{r: rand.New(rand.NewPCG(seed, uint64(n))), left: n}
}

func (s *stream) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	// Produce whole 8-byte words so the stream does not depend on how it is read.
	n := 0
	for n < len(p) {
		if len(s.buf) == 0 {
			var w [8]byte
			v := s.r.Uint64()
			for j := range w {
				w[j] = byte(v >> (8 * j))
			}
			s.buf = w[:]
		}
		c := copy(p[n:], s.buf)
		s.buf = s.buf[c:]
		n += c
	}
	s.left -= int64(n)
	return n, nil
}

// digest returns the SHA-256 of r's content and its length.
func digest(t *testing.T, r io.Reader) ([32]byte, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	require.NoError(t, err)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n
}

// recent checks that tm is within ten minutes of now (emulators and
// servers may run on clocks a little off ours).
func recent(t *testing.T, tm time.Time, what string) {
	t.Helper()
	require.False(t, tm.IsZero(), "%s is zero", what)
	d := time.Since(tm)
	require.True(t, d > -10*time.Minute && d < 10*time.Minute, "%s %v is not close to now", what, tm)
}

// canceled returns a context that is already canceled.
func canceled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

func keyName(i int) string { return fmt.Sprintf("k%04d", i) }

// contextWithCancel returns a context canceled at the latest when t ends.
func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

// onlyReader hides every method but Read, so the bucket cannot learn the
// length or seek.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// contextWithDeadline returns a context with deadline d.
func contextWithDeadline(t *testing.T, d time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(t.Context(), d)
}

// writeMany writes every key (empty objects), eight at a time.
func writeMany(t *testing.T, b blob.Bucket, keys []string) {
	t.Helper()
	var g errgroup
	g.limit(8)
	for _, k := range keys {
		g.Go(func() error { return blob.WriteAll(t.Context(), b, k, nil, nil) })
	}
	require.NoError(t, g.Wait())
}

// errgroup runs functions with bounded concurrency and keeps the first error.
type errgroup struct {
	wg    sync.WaitGroup
	sem   chan struct{}
	mu    sync.Mutex
	first error
}

func (g *errgroup) limit(n int) { g.sem = make(chan struct{}, n) }

func (g *errgroup) Go(f func() error) {
	g.wg.Add(1)
	if g.sem != nil {
		g.sem <- struct{}{}
	}
	go func() {
		defer g.wg.Done()
		if g.sem != nil {
			defer func() { <-g.sem }()
		}
		if err := f(); err != nil {
			g.mu.Lock()
			if g.first == nil {
				g.first = err
			}
			g.mu.Unlock()
		}
	}()
}

func (g *errgroup) Wait() error {
	g.wg.Wait()
	return g.first
}

// Prefixed returns h with every bucket seen through blob.Prefixed(b,
// prefix), and MaxKeyLen shortened by the prefix. Each inner bucket also
// gets an object outside the prefix, which no check may see.
func Prefixed(h Harness, prefix string) Harness {
	open := h.Open
	h.Open = func(t *testing.T) blob.Bucket {
		inner := open(t)
		require.NoError(t, blob.WriteAll(t.Context(), inner, "outside-the-prefix", []byte("not yours"), nil))
		return blob.Prefixed(inner, prefix)
	}
	max := h.MaxKeyLen
	if max == 0 {
		max = blob.MaxKeyLen
	}
	h.MaxKeyLen = max - len(prefix)
	return h
}
