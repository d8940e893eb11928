package gcp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"cloud.google.com/go/storage"
	"github.com/stretchr/testify/require"
	"google.golang.org/api/googleapi"

	"github.com/anyblob/anyblob/blob"
)

func TestMapError(t *testing.T) {
	api := func(code int, reason string) error {
		return &googleapi.Error{Code: code, Errors: []googleapi.ErrorItem{{Reason: reason}}, Header: http.Header{}}
	}
	tests := []struct {
		err  error
		kind error
		code string
	}{
		{storage.ErrObjectNotExist, blob.ErrNotFound, ""},
		{storage.ErrBucketNotExist, blob.ErrNotFound, ""},
		{api(404, "notFound"), blob.ErrNotFound, "notFound"},
		{api(412, "conditionNotMet"), blob.ErrPreconditionFailed, "conditionNotMet"},
		{api(403, "forbidden"), blob.ErrPermissionDenied, "forbidden"},
		{api(401, "required"), blob.ErrUnauthenticated, "required"},
		{api(429, "rateLimitExceeded"), blob.ErrThrottled, "rateLimitExceeded"},
		{api(400, "invalid"), blob.ErrInvalidArgument, "invalid"},
		{api(500, "backendError"), blob.ErrInternal, "backendError"},
		{fmt.Errorf("wrapped: %w", api(412, "conditionNotMet")), blob.ErrPreconditionFailed, "conditionNotMet"},
		{errors.New("connection reset"), blob.ErrInternal, ""},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			d := errorDetail(tt.err)
			if tt.kind == blob.ErrInternal {
				require.Contains(t, []error{nil, blob.ErrInternal}, d.Kind)
			} else {
				require.Equal(t, tt.kind, d.Kind)
			}
			require.Equal(t, tt.code, d.Code)
		})
	}
}

func TestFromURL(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		url  string
		env  map[string]string
		want Options
		err  string
	}{
		{url: "gs://b", want: Options{}},
		{url: "gs://b?project=p&endpoint=https://gcs.example/storage/v1/", want: Options{Project: "p", Endpoint: "https://gcs.example/storage/v1/"}},
		{url: "gs://b", env: map[string]string{"STORAGE_EMULATOR_HOST": "127.0.0.1:4443"}, want: Options{Endpoint: "http://127.0.0.1:4443", Anonymous: true}},
		{url: "gs://b", env: map[string]string{"STORAGE_EMULATOR_HOST": "https://emu:9"}, want: Options{Endpoint: "https://emu:9", Anonymous: true}},
		{url: "gs://b?endpoint=https://x", env: map[string]string{"STORAGE_EMULATOR_HOST": "127.0.0.1:4443"}, want: Options{Endpoint: "https://x"}},
		{url: "gs://b", env: map[string]string{"GOOGLE_CLOUD_PROJECT": "env-p"}, want: Options{Project: "env-p"}},
		{url: "gs://b?anonymous=true", want: Options{Anonymous: true}},
		{url: "gs://b?anonymous=maybe", err: "not a boolean"},
		{url: "gs://b?compose_writes=true", want: Options{ComposeWrites: true}},
		{url: "gs://b?compose_writes=2", err: "not a boolean"},
		{url: "gs://b?region=x", err: `unknown URL parameter "region"`},
		{url: "gs:///", err: "names no bucket"},
		{url: "gs://b/some/path", err: "has a path"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			require.NoError(t, err)
			name, opts, err := FromURL(u, env(tt.env))
			if tt.err != "" {
				require.ErrorIs(t, err, blob.ErrInvalidArgument)
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "b", name)
			require.Equal(t, tt.want, opts)
		})
	}
}

func TestFromURLSignerKeyFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "sa.json")
	require.NoError(t, os.WriteFile(good, []byte(`{"type":"service_account","client_email":"signer@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"}`), 0o600))
	user := filepath.Join(dir, "user.json")
	require.NoError(t, os.WriteFile(user, []byte(`{"type":"authorized_user","client_id":"c"}`), 0o600))
	parse := func(file string) (Options, error) {
		u := &url.URL{Scheme: "gs", Host: "b", RawQuery: url.Values{"signer_key_file": {file}}.Encode()}
		_, opts, err := FromURL(u, func(string) string { return "" })
		return opts, err
	}
	opts, err := parse(good)
	require.NoError(t, err)
	require.Equal(t, "signer@p.iam.gserviceaccount.com", opts.SignerEmail)
	require.Contains(t, string(opts.SignerKey), "BEGIN PRIVATE KEY")
	for file, msg := range map[string]string{user: "no client_email and private_key", filepath.Join(dir, "missing"): "no such file"} {
		_, err := parse(file)
		require.ErrorIs(t, err, blob.ErrInvalidArgument)
		require.ErrorContains(t, err, msg)
		require.NotContains(t, err.Error(), "BEGIN PRIVATE KEY")
	}
}

func TestGenerationETags(t *testing.T) {
	require.Equal(t, `"1700000000123456"`, etagOf(1700000000123456))
	g, err := generationOf(`"1700000000123456"`)
	require.NoError(t, err)
	require.Equal(t, int64(1700000000123456), g)
	for _, bad := range []string{`"abc"`, `""`, `"-4"`, `"0"`} {
		_, err := generationOf(bad)
		require.ErrorIs(t, err, blob.ErrPreconditionFailed, bad)
	}
}
