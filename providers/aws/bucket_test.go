package aws

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/conformance/emulator"
)

func TestObjectsRoundTrip(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	b, _ := newBucket(t, c)
	ctx := context.Background()

	tests := []struct {
		name string
		key  string
		data []byte
		opts *blob.WriterOptions
	}{
		{"plain", "a.txt", []byte("hello"), nil},
		{"empty", "empty", nil, nil},
		{"space and percent", "sp ace/100%+#?&=.txt", []byte("y"), nil},
		{"unicode", "é/日本/ü", []byte("z"), nil},
		{"trailing dot", "dir/x.", []byte("w"), nil},
		{"headers and metadata", "meta", []byte("<p>"), &blob.WriterOptions{
			ContentType: "text/html", ContentEncoding: "identity", ContentDisposition: `attachment; filename="p.html"`,
			ContentLanguage: "fr", CacheControl: "max-age=60",
			Metadata: map[string]string{
				"plain": "value", "utf8": "héllo wörld ✓", "edges": "  spaced  ", "lookalike": "=?utf-8?q?not-encoded?=",
				"newline": "a\nb", "empty": "",
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, blob.WriteAll(ctx, b, tt.key, tt.data, tt.opts))
			got, err := blob.ReadAll(ctx, b, tt.key)
			require.NoError(t, err)
			require.Equal(t, len(tt.data), len(got))
			require.True(t, bytes.Equal(tt.data, got))

			a, err := b.Attributes(ctx, tt.key)
			require.NoError(t, err)
			require.Equal(t, int64(len(tt.data)), a.Size)
			require.NotEmpty(t, a.ETag)
			require.Len(t, a.MD5, 16)
			require.False(t, a.ModTime.IsZero())
			if tt.opts != nil {
				o := tt.opts
				require.Equal(t, o.ContentType, a.ContentType)
				require.Equal(t, o.ContentEncoding, a.ContentEncoding)
				require.Equal(t, o.ContentDisposition, a.ContentDisposition)
				require.Equal(t, o.ContentLanguage, a.ContentLanguage)
				require.Equal(t, o.CacheControl, a.CacheControl)
				want := map[string]string{}
				for k, v := range o.Metadata {
					if v != "" { // S3 drops empty metadata values
						want[k] = v
					}
				}
				delete(a.Metadata, "empty")
				require.Equal(t, want, a.Metadata)
			}

			page, err := b.List(ctx, &blob.ListOptions{Prefix: tt.key})
			require.NoError(t, err)
			require.NotEmpty(t, page.Objects)
			require.Equal(t, tt.key, page.Objects[0].Key)
			require.Equal(t, a.ETag, page.Objects[0].ETag)
			require.Equal(t, a.ModTime, page.Objects[0].ModTime)
		})
	}
}

func TestRangeReads(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	b, _ := newBucket(t, c)
	ctx := context.Background()
	data := pattern(1000, 1)
	require.NoError(t, blob.WriteAll(ctx, b, "k", data, nil))

	tests := []struct {
		name           string
		offset, length int64
		want           []byte
	}{
		{"whole", 0, -1, data},
		{"head", 0, 10, data[:10]},
		{"middle", 100, 50, data[100:150]},
		{"tail", 990, -1, data[990:]},
		{"past the end length", 990, 100, data[990:]},
		{"at the end", 1000, -1, nil},
		{"beyond the end", 5000, 10, nil},
		{"zero length", 10, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := b.NewRangeReader(ctx, "k", tt.offset, tt.length, nil)
			require.NoError(t, err)
			defer r.Close()
			got, err := io.ReadAll(r)
			require.NoError(t, err)
			require.Equal(t, len(tt.want), len(got))
			require.True(t, bytes.Equal(tt.want, got))
			require.Equal(t, int64(1000), r.Attrs().Size)
			require.NotEmpty(t, r.Attrs().ETag)
		})
	}

	t.Run("if-match", func(t *testing.T) {
		a, err := b.Attributes(ctx, "k")
		require.NoError(t, err)
		r, err := b.NewRangeReader(ctx, "k", 0, -1, &blob.ReaderOptions{IfMatch: a.ETag})
		require.NoError(t, err)
		require.NoError(t, r.Close())
		for _, off := range []int64{0, 2000} {
			_, err = b.NewRangeReader(ctx, "k", off, -1, &blob.ReaderOptions{IfMatch: `"0123"`})
			require.ErrorIs(t, err, blob.ErrPreconditionFailed)
		}
	})
	t.Run("absent", func(t *testing.T) {
		_, err := b.NewRangeReader(ctx, "nope", 0, -1, nil)
		require.ErrorIs(t, err, blob.ErrNotFound)
		var be *blob.Error
		require.True(t, errors.As(err, &be))
		require.Equal(t, "NoSuchKey", be.Code)
		require.Equal(t, 404, be.Status)
		require.NotEmpty(t, be.RequestID)
		var se *Error
		require.True(t, errors.As(err, &se))
		require.Equal(t, "NoSuchKey", se.Code)
	})
}

func TestConditionalPut(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	b, _ := newBucket(t, c)
	ctx := context.Background()

	require.NoError(t, blob.WriteAll(ctx, b, "k", []byte("v1"), &blob.WriterOptions{IfNotExist: true}))
	err := blob.WriteAll(ctx, b, "k", []byte("v2"), &blob.WriterOptions{IfNotExist: true})
	require.ErrorIs(t, err, blob.ErrPreconditionFailed)
	a, err := b.Attributes(ctx, "k")
	require.NoError(t, err)
	err = blob.WriteAll(ctx, b, "k", []byte("v3"), &blob.WriterOptions{IfMatch: `"ffffffffffffffffffffffffffffffff"`})
	require.ErrorIs(t, err, blob.ErrPreconditionFailed)
	require.NoError(t, blob.WriteAll(ctx, b, "k", []byte("v4"), &blob.WriterOptions{IfMatch: a.ETag}))
	got, err := blob.ReadAll(ctx, b, "k")
	require.NoError(t, err)
	require.Equal(t, "v4", string(got))
	err = blob.WriteAll(ctx, b, "absent", []byte("v"), &blob.WriterOptions{IfMatch: a.ETag})
	require.True(t, errors.Is(err, blob.ErrPreconditionFailed) || errors.Is(err, blob.ErrNotFound), "%v", err)
}

func TestListPages(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	b, _ := newBucket(t, c)
	ctx := context.Background()
	keys := []string{"a", "b/1", "b/2", "b/c/3", "c d", "c+d", "é"}
	for _, k := range keys {
		require.NoError(t, blob.WriteAll(ctx, b, k, []byte(k), nil))
	}

	tests := []struct {
		name         string
		opts         blob.ListOptions
		wantObjects  []string
		wantPrefixes []string
	}{
		{"all in pages of 2", blob.ListOptions{PageSize: 2}, keys, nil},
		{"prefix", blob.ListOptions{Prefix: "b/"}, []string{"b/1", "b/2", "b/c/3"}, nil},
		{"delimiter", blob.ListOptions{Delimiter: "/", PageSize: 1}, []string{"a", "c d", "c+d", "é"}, []string{"b/"}},
		{"prefix and delimiter", blob.ListOptions{Prefix: "b/", Delimiter: "/"}, []string{"b/1", "b/2"}, []string{"b/c/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs, prefixes []string
			opts := tt.opts
			for pages := 0; ; pages++ {
				require.Less(t, pages, 20)
				p, err := b.List(ctx, &opts)
				require.NoError(t, err)
				require.LessOrEqual(t, len(p.Objects)+len(p.Prefixes), max(opts.PageSize, 1000*boolInt(opts.PageSize == 0)))
				for _, o := range p.Objects {
					objs = append(objs, o.Key)
					require.Equal(t, int64(len(o.Key)), o.Size)
				}
				prefixes = append(prefixes, p.Prefixes...)
				if p.NextPageToken == "" {
					break
				}
				opts.PageToken = p.NextPageToken
			}
			require.Equal(t, tt.wantObjects, objs)
			require.Equal(t, tt.wantPrefixes, prefixes)
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestDeleteKeys(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	b, _ := newBucket(t, c)
	ctx := context.Background()
	var keys []string
	for i := range 30 {
		k := strings.Repeat("k", 1+i%3) + string(rune('a'+i))
		keys = append(keys, k)
		require.NoError(t, blob.WriteAll(ctx, b, k, []byte("x"), nil))
	}
	keys = append(keys, "never-written", "ctl\x01key")
	bd, ok := b.(blob.BatchDeleter)
	require.True(t, ok)
	require.NoError(t, bd.DeleteKeys(ctx, keys))
	p, err := b.List(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, p.Objects)
	require.NoError(t, b.Delete(ctx, "never-written"))
}

func TestClockSkew(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	b, _ := newBucket(t, c)
	ctx := context.Background()
	for _, off := range []time.Duration{-20 * time.Minute, 3 * time.Hour} {
		skewed := newClient(t, minioOptions(ep))
		skewed.now = func() time.Time { return time.Now().Add(off) }
		sb, err := skewed.Bucket(b.(interface{ String() string }).String()[len("s3://"):])
		require.NoError(t, err)
		var heard []blob.Event
		ectx := blob.WithEvents(ctx, func(_ context.Context, e blob.Event) { heard = append(heard, e) })
		var logs bytes.Buffer
		logged := blob.Observe(sb, blob.LogTo(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), nil))
		require.NoError(t, blob.WriteAll(ectx, logged, "skewed", []byte("ok"), nil), "offset %v", off)
		require.NotEmpty(t, heard, "the re-sign is announced")
		require.Equal(t, blob.EventClockSkew, heard[0].Kind)
		require.Contains(t, heard[0].Detail, "off ours")
		require.Contains(t, logs.String(), `level=WARN msg="blob clock_skew" op=write provider=s3`, "and logged as a warning")
		require.Contains(t, logs.String(), "off ours")
		require.NotContains(t, logs.String(), ep.SecretKey)
		got, err := blob.ReadAll(ctx, sb, "skewed")
		require.NoError(t, err)
		require.Equal(t, "ok", string(got))
		require.InDelta(t, float64(-off), float64(skewed.skew.Load()), float64(10*time.Second))
		u, err := sb.SignedURL(ctx, "skewed", nil)
		require.NoError(t, err)
		resp, err := http.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "presigned with the server's clock")
	}
}

// rotatingSource hands out stale keys until Invalidate is called.
type rotatingSource struct {
	stale, fresh sigv4.Credentials
	mu           sync.Mutex
	invalidated  int
}

func (s *rotatingSource) Retrieve(context.Context) (sigv4.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.invalidated > 0 {
		return s.fresh, nil
	}
	return s.stale, nil
}

func (s *rotatingSource) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated++
}

func TestStaleCredentialsAreRefreshed(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	_, name := newBucket(t, c)
	src := &rotatingSource{
		stale: sigv4.Credentials{AccessKeyID: "rotated-away", SecretAccessKey: "old-secret"},
		fresh: sigv4.Credentials{AccessKeyID: ep.AccessKey, SecretAccessKey: ep.SecretKey},
	}
	opts := minioOptions(ep)
	opts.Credentials = src
	b, err := newClient(t, opts).Bucket(name)
	require.NoError(t, err)
	var out bytes.Buffer
	b = blob.Observe(b, blob.LogTo(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})), nil))
	require.NoError(t, blob.WriteAll(context.Background(), b, "k", []byte("v"), nil))
	require.Equal(t, 1, src.invalidated)
	require.Contains(t, out.String(), "msg=\"blob credentials_refresh\"", "the refresh is logged")
	for _, secret := range []string{"old-secret", ep.SecretKey} {
		require.NotContains(t, out.String(), secret)
	}

	// A source that cannot refresh fails with the server's code.
	opts.Credentials = sigv4.StaticCredentials(src.stale)
	b, err = newClient(t, opts).Bucket(name)
	require.NoError(t, err)
	err = blob.WriteAll(context.Background(), b, "k", []byte("v"), nil)
	require.ErrorIs(t, err, blob.ErrUnauthenticated)
	var be *blob.Error
	require.ErrorAs(t, err, &be)
	require.Equal(t, "InvalidAccessKeyId", be.Code)
	require.NotContains(t, err.Error(), "old-secret")
}

func TestHooksReachTheNativeRequest(t *testing.T) {
	testEnv(t)
	ep := emulator.MinIO(t)
	c := newClient(t, minioOptions(ep))
	b, _ := newBucket(t, c)
	ctx := context.Background()
	setMeta := func(as func(any) bool) error {
		var r *Request
		if !as(&r) {
			return errors.New("no *Request")
		}
		r.Header.Set("X-Amz-Meta-Hooked", "yes")
		return nil
	}
	require.NoError(t, blob.WriteAll(ctx, b, "hooked", []byte("x"), &blob.WriterOptions{BeforeWrite: setMeta}))
	a, err := b.Attributes(ctx, "hooked")
	require.NoError(t, err)
	require.Equal(t, "yes", a.Metadata["hooked"], "the header the hook set was sent")

	var seen string
	_, err = b.List(ctx, &blob.ListOptions{Prefix: "h", BeforeList: func(as func(any) bool) error {
		var r *Request
		require.True(t, as(&r))
		seen = r.Query.Get("prefix")
		return nil
	}})
	require.NoError(t, err)
	require.Equal(t, "h", seen)

	_, err = b.SignedURL(ctx, "hooked", &blob.SignedURLOptions{BeforeSign: func(as func(any) bool) error {
		var r *http.Request
		require.True(t, as(&r))
		require.Equal(t, http.MethodGet, r.Method)
		var other *Request
		require.False(t, as(&other), "a presign has no *Request")
		return nil
	}})
	require.NoError(t, err)
}
