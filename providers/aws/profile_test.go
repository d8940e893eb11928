package aws

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
	"github.com/anyblob/anyblob/conformance/emulator"
)

func TestProfileKeyRules(t *testing.T) {
	decomposed := "e\u0301" // é as e + combining acute: not NFC
	tests := []struct {
		profile string
		key     string
		rule    string // "" when the key is stored as given
	}{
		{"aws", "/x", ""}, {"aws", "a//b", ""}, {"aws", "../x", ""}, {"aws", decomposed, ""},
		{"minio", "/x", "leading '/'"}, {"minio", "a//b", "empty path segment"}, {"minio", "a/../b", "'..' path segment"},
		{"minio", "./y", "'.' path segment"}, {"minio", "dir/", ""}, {"minio", `back\slash`, ""}, {"minio", "a.b/..c", ""},
		{"generic", "/x", "leading '/'"}, {"generic", "x/.", "'.' path segment"},
		{"r2", decomposed, "normalization form C"}, {"r2", "é", ""}, {"r2", "a//b", ""},
		{"seaweedfs", `back\slash`, `'\'`}, {"seaweedfs", "a//b", "empty path segment"},
		{"b2", `x\y`, `'\'`}, {"b2", "/x", "leading '/'"},
		{"gcs", ".", "the name '.'"}, {"gcs", "..", "the name '..'"}, {"gcs", "a/../b", ""},
		{"ceph", "a//b", ""}, {"ceph", "/x", ""}, {"garage", "../x", ""},
	}
	for _, tt := range tests {
		p := profileNamed(tt.profile)
		require.NotNil(t, p, tt.profile)
		got := p.rules.breaks(tt.key)
		if tt.rule == "" {
			require.Empty(t, got, "%s stores %q as given", tt.profile, tt.key)
		} else {
			require.Contains(t, got, tt.rule, "%s and %q", tt.profile, tt.key)
		}
	}
}

func TestProfileDetection(t *testing.T) {
	ctx := context.Background()
	for endpoint, want := range map[string]string{
		"":                                       "aws",
		"https://s3.eu-west-1.amazonaws.com":     "aws",
		"https://acct.r2.cloudflarestorage.com":  "r2",
		"https://s3.us-west-004.backblazeb2.com": "b2",
		"https://s3.wasabisys.com":               "wasabi",
		"https://storage.googleapis.com":         "gcs",
		"http://127.0.0.1:9000":                  "", // known from the first answer
	} {
		c, err := New(ctx, Options{Region: "us-east-1", Endpoint: endpoint, Anonymous: true})
		require.NoError(t, err)
		require.Equal(t, want, c.Profile(), endpoint)
	}
	for server, want := range map[string]string{
		"AmazonS3": "aws", "MinIO": "minio", "Ceph Object Gateway (squid)": "ceph",
		"SeaweedFS 30GB 3.80": "seaweedfs", "nginx": "generic", "": "generic",
	} {
		require.Equal(t, want, profileOfServer(server).name, server)
	}

	c, err := New(ctx, Options{Region: "us-east-1", Endpoint: "https://acct.r2.cloudflarestorage.com", Profile: "minio", Anonymous: true})
	require.NoError(t, err)
	require.Equal(t, "minio", c.Profile(), "Options.Profile wins over the host")
	_, err = New(ctx, Options{Region: "us-east-1", Endpoint: "http://127.0.0.1:1", Profile: "s4", Anonymous: true})
	require.ErrorIs(t, err, ErrInvalidOptions)
	require.ErrorContains(t, err, `unknown profile "s4" (known: aws, minio, ceph`)

	u, _ := url.Parse("s3://bkt?region=us-east-1&endpoint=http://127.0.0.1:1&anonymous=true&profile=garage")
	_, opts, err := FromURL(u, func(string) string { return "" })
	require.NoError(t, err)
	require.Equal(t, "garage", opts.Profile)
	u, _ = url.Parse("s3://bkt?region=us-east-1&anonymous=true&profile=azure")
	_, _, err = FromURL(u, func(string) string { return "" })
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
	require.ErrorContains(t, err, `profile="azure" names no known server`)
}

// TestNoWriteOnMinIOHidesAnObject writes, with MinIO's default options,
// keys MinIO would hide from listings (an object that is also the folder
// of others, in either order) or store under another name, and requires
// that every write that succeeded is listed under its own name, and that
// every refusal names MinIO.
func TestNoWriteOnMinIOHidesAnObject(t *testing.T) {
	testEnv(t)
	ctx := context.Background()
	c := newClient(t, minioOptions(emulator.MinIO(t)))
	b, _ := newBucket(t, c)
	keys := []string{
		"t/a", "t/a/1", // an object, then a key under it
		"g/x/y", "g/x", "g", // keys under a folder, then the folder as an object
		"c", "c/", "c/d", // an object, its folder marker, a key under both
		"m/", "m/n", "m", // a marker, a key under it, then the object
		"a//b", "/x", "./y", "p/../q", "ok", "ok2/é", "dir/deep/file", "dir/deep/file2",
	}
	var stored []string
	for _, k := range keys {
		err := blob.WriteAll(ctx, b, k, []byte(k), nil)
		if err == nil {
			stored = append(stored, k)
			continue
		}
		require.ErrorIs(t, err, blob.ErrInvalidArgument, k)
		require.ErrorContains(t, err, "MinIO", k)
		ok, err := blob.Exists(ctx, b, k)
		if err == nil {
			require.False(t, ok, "a refused write of %q left an object", k)
		}
	}
	var listed []string
	for o, err := range blob.Objects(ctx, b, nil) {
		require.NoError(t, err)
		listed = append(listed, o.Key)
	}
	slices.Sort(stored)
	require.Equal(t, stored, listed, "every write that succeeded is listed, under its own name")
	require.Contains(t, stored, "t/a")
	require.NotContains(t, stored, "t/a/1")
	require.NotContains(t, stored, "g/x")
	require.Contains(t, stored, "c/", "a folder marker sits beside its object")
	require.Equal(t, "minio", c.Profile())
	for _, k := range []string{"t/a/1", "g"} {
		err := blob.WriteAll(ctx, b, k, nil, nil)
		require.ErrorContains(t, err, "refused before any data was sent", k)
	}
	// A folder this client saw becomes an object: the next key under it
	// is refused, not hidden (the folder cache forgets the name).
	require.NoError(t, blob.WriteAll(ctx, b, "x/y", []byte("1"), nil))
	require.NoError(t, b.Delete(ctx, "x/y"))
	require.NoError(t, blob.WriteAll(ctx, b, "x", []byte("2"), nil))
	require.ErrorIs(t, blob.WriteAll(ctx, b, "x/z", []byte("3"), nil), blob.ErrInvalidArgument)

	// Copy checks its destination alike.
	err := b.Copy(ctx, "t/a/copy", "ok", nil)
	require.ErrorIs(t, err, blob.ErrInvalidArgument)
}

// wireLog is a proxy in front of MinIO that keeps every request's
// method, path, query and headers.
type wireLog struct {
	*faultproxy.Proxy
	mu   sync.Mutex
	reqs []*http.Request
}

func recordWire(t *testing.T, m *emulator.MinIOServer) *wireLog {
	p, err := faultproxy.New(m.Endpoint, 1)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	r := &wireLog{Proxy: p}
	p.OnRequest = func(req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, &http.Request{Method: req.Method, URL: req.URL, Header: req.Header.Clone()})
		r.mu.Unlock()
	}
	return r
}

// profiledMinIO is a fresh bucket on MinIO through a recording proxy,
// with the client told that the server is profile's.
func profiledMinIO(t *testing.T, profile string) (*wireLog, blob.Bucket) {
	m := emulator.MinIO(t)
	rec := recordWire(t, m)
	opts := minioOptions(m)
	opts.Endpoint = rec.URL()
	opts.Profile = profile
	b, _ := newBucket(t, newClient(t, opts))
	return rec, b
}

func (r *wireLog) take() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// TestMD5ProfileOnMinIO runs a server profile whose server takes no
// x-amz-checksum-* header (here Garage's, against MinIO): every body
// carries Content-MD5 instead, single and multipart writes alike, and the
// objects read back whole.
func TestMD5ProfileOnMinIO(t *testing.T) {
	testEnv(t)
	ctx := context.Background()
	rec, b := profiledMinIO(t, "garage")
	rec.take()

	small := []byte("small object")
	large := make([]byte, 11<<20+123)
	for i := range large {
		large[i] = byte(i * 7)
	}
	require.NoError(t, blob.WriteAll(ctx, b, "small", small, nil))
	require.NoError(t, blob.WriteAll(ctx, b, "large", large, &blob.WriterOptions{PartSize: 5 << 20}))
	reqs := rec.take()
	var bodies int
	for _, r := range reqs {
		for k := range r.Header {
			require.False(t, strings.HasPrefix(strings.ToLower(k), "x-amz-checksum"), "%s %s sent %s", r.Method, r.URL, k)
			require.False(t, strings.EqualFold(k, "x-amz-sdk-checksum-algorithm"), "%s %s sent %s", r.Method, r.URL, k)
		}
		if r.Method == http.MethodPut {
			bodies++
			require.NotEmpty(t, r.Header.Get("Content-Md5"), "%s %s carries Content-MD5", r.Method, r.URL)
		}
	}
	require.Equal(t, 4, bodies, "one PutObject and three parts")
	for k, want := range map[string][]byte{"small": small, "large": large} {
		got, err := blob.ReadAll(ctx, b, k)
		require.NoError(t, err)
		require.Equal(t, want, got, k)
	}
}

// TestConditionalWritesRefusedWhereNotAtomic: on a server whose profile
// says it does not apply If-None-Match atomically (SeaweedFS's, against
// MinIO), a conditional write or copy fails with ErrNotImplemented before
// any data is sent.
func TestConditionalWritesRefusedWhereNotAtomic(t *testing.T) {
	testEnv(t)
	ctx := context.Background()
	rec, b := profiledMinIO(t, "seaweedfs")
	require.NoError(t, blob.WriteAll(ctx, b, "src", []byte("x"), nil))
	rec.take()
	err := blob.WriteAll(ctx, b, "k", []byte("x"), &blob.WriterOptions{IfNotExist: true})
	require.ErrorIs(t, err, blob.ErrNotImplemented)
	require.ErrorContains(t, err, "SeaweedFS is not known to apply If-None-Match")
	err = blob.WriteAll(ctx, b, "src", []byte("y"), &blob.WriterOptions{IfMatch: `"abc"`})
	require.ErrorIs(t, err, blob.ErrNotImplemented)
	err = b.Copy(ctx, "dst", "src", &blob.CopyOptions{IfNotExist: true})
	require.ErrorIs(t, err, blob.ErrNotImplemented)
	for _, r := range rec.take() {
		require.NotEqual(t, http.MethodPut, r.Method, "nothing written: %s", r.URL)
		require.NotEqual(t, http.MethodPost, r.Method, "nothing written: %s", r.URL)
	}
}
