package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// recorder is a driver that records what the wrapper passes it.
type recorder struct {
	calls      []string
	listOpts   *ListOptions
	writeOpts  *WriterOptions
	readOpts   *ReaderOptions
	signOpts   *SignedURLOptions
	copyOpts   *CopyOptions
	deleteErr  error
	w          *recWriter
	attrs      *Attributes
	readerData string
}

func (r *recorder) NewRangeReader(_ context.Context, key string, _, _ int64, o *ReaderOptions) (Reader, error) {
	r.calls = append(r.calls, "read "+key)
	r.readOpts = o
	return &recReader{Reader: strings.NewReader(r.readerData)}, nil
}
func (r *recorder) NewWriter(_ context.Context, key string, o *WriterOptions) (Writer, error) {
	r.calls = append(r.calls, "write "+key)
	r.writeOpts = o
	r.w = &recWriter{}
	return r.w, nil
}
func (r *recorder) Attributes(_ context.Context, key string) (*Attributes, error) {
	r.calls = append(r.calls, "attrs "+key)
	if r.attrs != nil {
		return r.attrs, nil
	}
	return &Attributes{}, nil
}
func (r *recorder) List(_ context.Context, o *ListOptions) (*ListPage, error) {
	r.calls = append(r.calls, "list")
	r.listOpts = o
	return &ListPage{}, nil
}
func (r *recorder) Delete(_ context.Context, key string) error {
	r.calls = append(r.calls, "delete "+key)
	return r.deleteErr
}
func (r *recorder) Copy(_ context.Context, dst, src string, o *CopyOptions) error {
	r.calls = append(r.calls, "copy "+src+" "+dst)
	r.copyOpts = o
	return nil
}
func (r *recorder) SignedURL(_ context.Context, key string, o *SignedURLOptions) (string, error) {
	r.calls = append(r.calls, "sign "+key)
	r.signOpts = o
	return "https://signed/" + key, nil
}
func (r *recorder) Close() error { r.calls = append(r.calls, "close"); return nil }

// ErrorDetail says that errNative means ErrNotFound, with service details.
func (r *recorder) ErrorDetail(err error) ErrorDetail {
	if errors.Is(err, errNative) {
		return ErrorDetail{Kind: ErrNotFound, Code: "NoSuchThing", Status: 404, RequestID: "R1", Message: "no such\n thing"}
	}
	return ErrorDetail{}
}

var errNative = errors.New("native: not there")

type recReader struct {
	io.Reader
	closes int
}

func (r *recReader) Close() error       { r.closes++; return nil }
func (r *recReader) Attrs() ReaderAttrs { return ReaderAttrs{} }

type recWriter struct {
	buf       bytes.Buffer
	committed bool
	aborted   bool
	failWrite error
}

func (w *recWriter) Write(p []byte) (int, error) {
	if w.failWrite != nil {
		return 0, w.failWrite
	}
	return w.buf.Write(p)
}
func (w *recWriter) Close() error      { w.committed = true; return nil }
func (w *recWriter) Abort(error) error { w.aborted = true; return nil }

func TestNewBucketRejectsBadInputBeforeTheDriver(t *testing.T) {
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		call func(b Bucket) error
		want error
	}{
		{"empty key", func(b Bucket) error { _, err := b.Attributes(ctx, ""); return err }, ErrInvalidArgument},
		{"long key", func(b Bucket) error { _, err := b.NewWriter(ctx, strings.Repeat("a", 1025), nil); return err }, ErrInvalidArgument},
		{"NUL key", func(b Bucket) error { return b.Delete(ctx, "a\x00") }, ErrInvalidArgument},
		{"bad utf8 copy source", func(b Bucket) error { return b.Copy(ctx, "ok", "\xff", nil) }, ErrInvalidArgument},
		{"negative offset", func(b Bucket) error { _, err := b.NewRangeReader(ctx, "k", -1, 1, nil); return err }, ErrInvalidArgument},
		{"both conditions", func(b Bucket) error {
			_, err := b.NewWriter(ctx, "k", &WriterOptions{IfNotExist: true, IfMatch: `"x"`})
			return err
		}, ErrInvalidArgument},
		{"negative part size", func(b Bucket) error { _, err := b.NewWriter(ctx, "k", &WriterOptions{PartSize: -1}); return err }, ErrInvalidArgument},
		{"negative concurrency", func(b Bucket) error { _, err := b.NewWriter(ctx, "k", &WriterOptions{Concurrency: -2}); return err }, ErrInvalidArgument},
		{"negative read concurrency", func(b Bucket) error { _, err := b.NewReader(ctx, "k", &ReaderOptions{Concurrency: -1}); return err }, ErrInvalidArgument},
		{"bad metadata key", func(b Bucket) error {
			_, err := b.NewWriter(ctx, "k", &WriterOptions{Metadata: map[string]string{"a b": "v"}})
			return err
		}, ErrInvalidArgument},
		{"bad copy metadata", func(b Bucket) error {
			return b.Copy(ctx, "d", "s", &CopyOptions{Metadata: map[string]string{"9": "v"}})
		}, ErrInvalidArgument},
		{"bad utf8 prefix", func(b Bucket) error { _, err := b.List(ctx, &ListOptions{Prefix: "\xff"}); return err }, ErrInvalidArgument},
		{"NUL delimiter", func(b Bucket) error { _, err := b.List(ctx, &ListOptions{Delimiter: "\x00"}); return err }, ErrInvalidArgument},
		{"negative page size", func(b Bucket) error { _, err := b.List(ctx, &ListOptions{PageSize: -1}); return err }, ErrInvalidArgument},
		{"sign method", func(b Bucket) error { _, err := b.SignedURL(ctx, "k", &SignedURLOptions{Method: "POST"}); return err }, ErrInvalidArgument},
		{"sign expiry short", func(b Bucket) error {
			_, err := b.SignedURL(ctx, "k", &SignedURLOptions{Expiry: time.Millisecond})
			return err
		}, ErrInvalidArgument},
		{"sign expiry long", func(b Bucket) error {
			_, err := b.SignedURL(ctx, "k", &SignedURLOptions{Expiry: 8 * 24 * time.Hour})
			return err
		}, ErrInvalidArgument},
		{"sign content type on GET", func(b Bucket) error {
			_, err := b.SignedURL(ctx, "k", &SignedURLOptions{ContentType: "text/plain"})
			return err
		}, ErrInvalidArgument},
		{"canceled context", func(b Bucket) error { _, err := b.Attributes(canceled, "k"); return err }, ErrCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &recorder{}
			err := tt.call(NewBucket("test", "bkt", d))
			requireOnlyKind(t, err, tt.want)
			require.Empty(t, d.calls, "the driver must not be called")
		})
	}
}

func TestNewBucketFillsDefaults(t *testing.T) {
	ctx := context.Background()
	d := &recorder{}
	b := NewBucket("test", "bkt", d)

	_, err := b.List(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, &ListOptions{PageSize: DefaultPageSize}, d.listOpts)
	_, err = b.List(ctx, &ListOptions{PageSize: 5000, Prefix: "p"})
	require.NoError(t, err)
	require.Equal(t, &ListOptions{PageSize: DefaultPageSize, Prefix: "p"}, d.listOpts)

	u, err := b.SignedURL(ctx, "k", nil)
	require.NoError(t, err)
	require.Equal(t, "https://signed/k", u)
	require.Equal(t, &SignedURLOptions{Method: "GET", Expiry: DefaultSignedURLExpiry}, d.signOpts)

	_, err = b.NewRangeReader(ctx, "k", 0, -1, nil)
	require.NoError(t, err)
	require.NotNil(t, d.readOpts)

	_, err = b.NewWriter(ctx, "k", &WriterOptions{Metadata: map[string]string{"Color": "Blue"}})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"color": "Blue"}, d.writeOpts.Metadata)

	require.NoError(t, b.Copy(ctx, "d", "s", nil))
	require.NotNil(t, d.copyOpts)

	a, err := b.Attributes(ctx, "k")
	require.NoError(t, err)
	require.NotNil(t, a.Metadata, "Metadata is never nil")

}

func TestNewBucketDeleteAbsentIsNil(t *testing.T) {
	d := &recorder{deleteErr: &Error{Kind: ErrNotFound}}
	require.NoError(t, NewBucket("test", "b", d).Delete(context.Background(), "gone"))
	d.deleteErr = errors.New("disk on fire")
	requireOnlyKind(t, NewBucket("test", "b", d).Delete(context.Background(), "k"), ErrInternal)
}

func TestWriterLifecycle(t *testing.T) {
	ctx := context.Background()
	t.Run("close after abort fails, abort is passed on", func(t *testing.T) {
		d := &recorder{}
		w, err := NewBucket("test", "b", d).NewWriter(ctx, "k", nil)
		require.NoError(t, err)
		require.NoError(t, w.Abort(nil))
		require.True(t, d.w.aborted)
		requireOnlyKind(t, w.Close(), ErrInvalidArgument)
		require.False(t, d.w.committed)
		_, err = w.Write([]byte("x"))
		requireOnlyKind(t, err, ErrInvalidArgument)
	})
	t.Run("canceled context aborts at close", func(t *testing.T) {
		d := &recorder{}
		cctx, cancel := context.WithCancel(ctx)
		w, err := NewBucket("test", "b", d).NewWriter(cctx, "k", nil)
		require.NoError(t, err)
		_, err = w.Write([]byte("partial"))
		require.NoError(t, err)
		cancel()
		requireOnlyKind(t, w.Close(), ErrCanceled)
		require.True(t, d.w.aborted)
		require.False(t, d.w.committed)
	})
	t.Run("failed write never commits", func(t *testing.T) {
		d := &recorder{}
		w, err := NewBucket("test", "b", d).NewWriter(ctx, "k", nil)
		require.NoError(t, err)
		d.w.failWrite = &Error{Kind: ErrThrottled}
		_, err = w.Write([]byte("x"))
		requireOnlyKind(t, err, ErrThrottled)
		requireOnlyKind(t, w.Close(), ErrThrottled)
		require.True(t, d.w.aborted)
		require.False(t, d.w.committed)
	})
	t.Run("abort after close fails", func(t *testing.T) {
		d := &recorder{}
		w, err := NewBucket("test", "b", d).NewWriter(ctx, "k", nil)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.True(t, d.w.committed)
		requireOnlyKind(t, w.Abort(nil), ErrInvalidArgument)
		require.False(t, d.w.aborted)
	})
}

// The shared layer answers Read, WriteTo and Close after a Reader's Close,
// so that no driver (and no parallel read's goroutines) sees them.
func TestReaderAfterClose(t *testing.T) {
	d := &recorder{readerData: "some bytes"}
	r, err := NewBucket("test", "b", d).NewReader(context.Background(), "k", nil)
	require.NoError(t, err)
	rr := r.(*reader).r.(*recReader)
	require.NoError(t, r.Close())
	_, err = r.Read(make([]byte, 4))
	requireOnlyKind(t, err, ErrInvalidArgument)
	_, err = r.(io.WriterTo).WriteTo(io.Discard)
	requireOnlyKind(t, err, ErrInvalidArgument)
	requireOnlyKind(t, r.Close(), ErrInvalidArgument)
	require.Equal(t, 1, rr.closes, "the driver's Close ran once")
}

func TestClosedBucket(t *testing.T) {
	d := &recorder{}
	b := NewBucket("test", "b", d)
	require.NoError(t, b.Close())
	requireOnlyKind(t, b.Close(), ErrInvalidArgument)
	_, err := b.Attributes(context.Background(), "k")
	requireOnlyKind(t, err, ErrInvalidArgument)
	require.Equal(t, []string{"close"}, d.calls)
}

// registryRuns numbers TestRegistry's runs: the registry is the process's
// and has no Unregister, so each run (go test -count=N) registers its own
// scheme.
var registryRuns atomic.Int32

func TestRegistry(t *testing.T) {
	run := registryRuns.Add(1)
	scheme, alias := fmt.Sprintf("regtest%d", run), fmt.Sprintf("rt%d", run)
	opener := func(ctx context.Context, u *url.URL) (Bucket, error) {
		return NewBucket(scheme, u.Host, &recorder{}), nil
	}
	Register(Provider{Name: scheme, Scheme: scheme, Aliases: []string{alias}, Open: opener})
	require.Contains(t, Schemes(), scheme)
	require.Panics(t, func() { Register(Provider{Name: "x", Scheme: scheme, Open: opener}) }, "a duplicate scheme panics")
	require.Panics(t, func() { Register(Provider{Name: alias, Scheme: "other", Open: opener}) }, "a duplicate name panics")
	require.Panics(t, func() { Register(Provider{Name: "y", Scheme: "", Open: opener}) })
	require.Panics(t, func() { Register(Provider{Name: "z", Scheme: "other"}) })

	b, err := OpenBucket(context.Background(), scheme+"://name")
	require.NoError(t, err)
	require.Equal(t, scheme+"://name", b.(*bucket).String())

	_, err = OpenBucket(context.Background(), "nope://x")
	requireOnlyKind(t, err, ErrInvalidArgument)
	require.Contains(t, err.Error(), `"nope"`)
	require.Contains(t, err.Error(), scheme+"://")

	_, err = OpenBucket(context.Background(), "no-scheme")
	requireOnlyKind(t, err, ErrInvalidArgument)
	require.Contains(t, err.Error(), "no scheme")
}

func TestOpenUnlinkedProvider(t *testing.T) {
	// No provider is linked into this package's tests: the error says how
	// to link them, and names no provider package of its own accord.
	_, err := OpenBucket(context.Background(), "s3://b")
	requireOnlyKind(t, err, ErrInvalidArgument)
	require.Contains(t, err.Error(), `URL scheme "s3"`)
	require.Contains(t, err.Error(), "github.com/anyblob/anyblob/providers/all")
	env := map[string]string{"CLOUD_PROVIDER": "aws", "CLOUD_BUCKET": "b"}
	_, err = openFromEnv(context.Background(), func(k string) string { return env[k] })
	requireOnlyKind(t, err, ErrInvalidArgument)
	require.Contains(t, err.Error(), `CLOUD_PROVIDER="aws"`)
	require.Contains(t, err.Error(), "providers/all")
}

var registerEnvProviders = sync.OnceFunc(func() {
	open := func(ctx context.Context, u *url.URL) (Bucket, error) {
		return NewBucket(u.Scheme, u.Host, &recorder{}), nil
	}
	Register(Provider{Name: "envcloud", Scheme: "envc", Aliases: []string{"ec", "envc"}, Open: open})
	Register(Provider{Name: DefaultProvider, Scheme: "envdefault", Open: open, EnvURL: func(b string) (*url.URL, error) {
		if b == "" {
			b = "fallback"
		}
		return &url.URL{Scheme: "envdefault", Host: b}, nil
	}})
})

func TestEnvURL(t *testing.T) {
	registerEnvProviders()
	tests := []struct {
		env  map[string]string
		want string
		err  string
	}{
		{env: nil, want: "envdefault://fallback"},
		{env: map[string]string{"CLOUD_BUCKET": "d"}, want: "envdefault://d"},
		{env: map[string]string{"CLOUD_PROVIDER": "envcloud", "CLOUD_BUCKET": "b1"}, want: "envc://b1"},
		{env: map[string]string{"CLOUD_PROVIDER": " EC ", "CLOUD_BUCKET": "b1"}, want: "envc://b1"},
		{env: map[string]string{"CLOUD_PROVIDER": "envc", "CLOUD_BUCKET": "b1"}, want: "envc://b1"},
		{env: map[string]string{"CLOUD_PROVIDER": "envcloud"}, err: "needs CLOUD_BUCKET"},
		{env: map[string]string{"CLOUD_PROVIDER": "dropbox"}, err: `CLOUD_PROVIDER="dropbox" is linked`},
		{env: map[string]string{"CLOUD_PROVIDER": "dropbox"}, err: `envcloud (ec, envc)`},
	}
	for _, tt := range tests {
		u, err := envURL(func(k string) string { return tt.env[k] })
		if tt.err != "" {
			requireOnlyKind(t, err, ErrInvalidArgument)
			require.Contains(t, err.Error(), tt.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, u.String())
	}
}
