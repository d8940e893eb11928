package all_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"google.golang.org/api/option"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/providers/gcp"
)

// bodyRecorder is a transport that keeps the bodies of the requests it
// sends.
type bodyRecorder struct {
	mu  sync.Mutex
	all strings.Builder
}

func (r *bodyRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		r.mu.Lock()
		r.all.Write(b)
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (r *bodyRecorder) bodies() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.all.String()
}

// TestStorageClassesAndTags writes with a storage class and tags on each
// emulator, reads them back through Attributes, copies with another class,
// and checks that GCS refuses tags before sending anything.
func TestStorageClassesAndTags(t *testing.T) {
	classes := map[string][2]string{
		"s3":     {"REDUCED_REDUNDANCY", "STANDARD"},
		"azblob": {"Cool", "Hot"},
		"gs":     {"NEARLINE", "COLDLINE"},
	}
	tags := map[string]string{"team": "data", "retention": "90d", "path": "a/b:c=d"}
	for _, fb := range faultyBackends(t, "classes", 7) {
		t.Run(fb.name, func(t *testing.T) {
			ctx := context.Background()
			b := fb.direct
			class := classes[fb.name]
			opts := &blob.WriterOptions{StorageClass: class[0], Tags: tags}
			if fb.name == "gs" {
				before := fb.proxy.Requests()
				err := blob.WriteAll(ctx, fb.open(t, fastRetry), "tagged", []byte("x"), opts)
				require.ErrorIs(t, err, blob.ErrNotImplemented)
				require.Equal(t, before, fb.proxy.Requests(), "nothing sent")
				opts.Tags = nil
			}
			require.NoError(t, blob.WriteAll(ctx, b, "obj", []byte("classy"), opts))
			a, err := b.Attributes(ctx, "obj")
			require.NoError(t, err)
			require.Equal(t, class[0], a.StorageClass)
			if fb.name != "gs" {
				require.Equal(t, tags, a.Tags)
			}

			require.NoError(t, b.Copy(ctx, "copy", "obj", &blob.CopyOptions{StorageClass: class[1]}))
			c, err := b.Attributes(ctx, "copy")
			require.NoError(t, err)
			switch {
			case fb.name == "gs":
				// fake-gcs-server's rewrite ignores the destination's
				// class (GCS applies it): what was sent is checked instead.
				require.Equal(t, "STANDARD", c.StorageClass, "if this fails, fake-gcs-server learnt rewrite classes: assert the class itself")
				rec := &bodyRecorder{}
				gc, err := gcp.New(ctx, gcp.Options{Endpoint: fb.proxy.URL() + "/storage/v1/", Anonymous: true,
					ClientOptions: []option.ClientOption{option.WithHTTPClient(&http.Client{Transport: rec})}})
				require.NoError(t, err)
				defer gc.Close()
				rb, err := gc.Bucket("classes")
				require.NoError(t, err)
				require.NoError(t, rb.Copy(ctx, "copy2", "obj", &blob.CopyOptions{StorageClass: class[1]}))
				require.Contains(t, rec.bodies(), `"storageClass":"COLDLINE"`)
			case class[1] == "STANDARD":
				require.Contains(t, []string{"", "STANDARD"}, c.StorageClass, "S3 may leave the default unsaid")
			default:
				require.Equal(t, class[1], c.StorageClass)
			}
			if fb.name != "gs" {
				require.Equal(t, tags, c.Tags, "a copy keeps the tags")
			}

			// A large write (multipart, staged blocks, resumable) carries
			// them too.
			big := pattern(3*fb.partSize+10, 3)
			require.NoError(t, blob.WriteAll(ctx, b, "big", big, &blob.WriterOptions{StorageClass: class[0], Tags: opts.Tags, PartSize: int64(fb.partSize)}))
			a, err = b.Attributes(ctx, "big")
			require.NoError(t, err)
			require.Equal(t, class[0], a.StorageClass)
			if fb.name != "gs" {
				require.Equal(t, tags, a.Tags)
			}

			err = blob.WriteAll(ctx, b, "bad", []byte("x"), &blob.WriterOptions{Tags: map[string]string{"bad": "semi;colon"}})
			require.ErrorIs(t, err, blob.ErrInvalidArgument)
		})
	}
}
