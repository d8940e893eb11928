package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/anyblob/anyblob/auth/sigv4"
	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/netsim"
	"github.com/anyblob/anyblob/conformance/emulator"
	anyaws "github.com/anyblob/anyblob/providers/aws"
)

var (
	farSize  = flag.Int("far.size", 128<<20, "object size of BenchmarkS3Far, in bytes")
	farConc  = flag.Int("far.conc", 0, "anyblob's ReadConcurrency in BenchmarkS3Far; 0 is the default")
	farPart  = flag.Int("far.part", 0, "anyblob's ReadPartSize in BenchmarkS3Far; 0 is the default")
	farWConc = flag.Int("far.wconc", 0, "anyblob's (write) Concurrency in BenchmarkS3Far; 0 is the default")
	farWPart = flag.Int("far.wpart", 0, "anyblob's (write) PartSize in BenchmarkS3Far; 0 is the default")
)

// farLinks are the simulated networks of BenchmarkS3Far: a region away
// (40 MiB/s per connection, 20 ms) and a continent away (10 MiB/s, 80 ms).
var farLinks = []struct {
	name string
	link netsim.Link
}{
	{"40MiBps-20ms", netsim.Link{Rate: 40 << 20, RTT: 20 * time.Millisecond}},
	{"10MiBps-80ms", netsim.Link{Rate: 10 << 20, RTT: 80 * time.Millisecond}},
}

// BenchmarkS3Far compares GET and PUT through a simulated far link
// (blobtest/netsim in front of MinIO): anyblob, minio-go and
// aws-sdk-go-v2's manager (Downloader, Uploader), each with its own
// defaults, as a user would run them. MB/s is from b.SetBytes; peak-MiB
// is the heap's peak above its start: the client's alone, since the
// simulated link runs in a process of its own (startLink).
//
//	cd bench && go test -run '^$' -bench BenchmarkS3Far -benchtime 1x -timeout 30m [-far.size 134217728]
func BenchmarkS3Far(b *testing.B) {
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("HOME", b.TempDir())
	ep := emulator.MinIO(b)
	ctx := context.Background()
	size := int64(*farSize)
	data := bytes.Repeat([]byte("anyblob far link"), int(size/16))
	const bucket = "far"
	{
		ac, err := anyaws.New(ctx, anyaws.Options{Region: ep.Region, Endpoint: ep.Endpoint, UsePathStyle: true,
			Credentials: sigv4.StaticCredentials{AccessKeyID: ep.AccessKey, SecretAccessKey: ep.SecretKey}})
		if err != nil {
			b.Fatal(err)
		}
		if err := ac.CreateBucket(ctx, bucket); err != nil {
			b.Fatal(err)
		}
		direct, err := ac.Bucket(bucket)
		if err != nil {
			b.Fatal(err)
		}
		if err := blob.WriteAll(ctx, direct, "obj", data, nil); err != nil {
			b.Fatal(err)
		}
	}
	target := strings.TrimPrefix(ep.Endpoint, "http://")
	for _, l := range farLinks {
		p := startLink(b, target, l.link)
		endpoint := "http://" + p.Addr()
		ac, err := anyaws.New(ctx, anyaws.Options{Region: ep.Region, Endpoint: endpoint, UsePathStyle: true, ReadConcurrency: *farConc, ReadPartSize: int64(*farPart),
			Concurrency: *farWConc, PartSize: int64(*farWPart),
			Credentials: sigv4.StaticCredentials{AccessKeyID: ep.AccessKey, SecretAccessKey: ep.SecretKey}})
		if err != nil {
			b.Fatal(err)
		}
		any, err := ac.Bucket(bucket)
		if err != nil {
			b.Fatal(err)
		}
		mc, sdk := otherClients(b, ep, p.Addr())
		down, up := manager.NewDownloader(sdk), manager.NewUploader(sdk)

		gets := []struct {
			name string
			get  func() error
		}{
			{"anyblob", func() error {
				r, err := any.NewReader(ctx, "obj", nil)
				if err != nil {
					return err
				}
				defer r.Close()
				_, err = io.Copy(io.Discard, r)
				return err
			}},
			{"anyblob-Download", func() error {
				return blob.Download(ctx, any, "obj", io.Discard)
			}},
			{"anyblob-DownloadAt", func() error {
				_, err := blob.DownloadAt(ctx, any, "obj", discardAt{})
				return err
			}},
			{"minio-go", func() error {
				o, err := mc.GetObject(ctx, bucket, "obj", minio.GetObjectOptions{})
				if err != nil {
					return err
				}
				defer o.Close()
				_, err = io.Copy(io.Discard, o)
				return err
			}},
			{"aws-sdk-go-v2-Downloader", func() error {
				_, err := down.Download(ctx, discardAt{}, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
				return err
			}},
		}
		puts := []struct {
			name string
			put  func() error
		}{
			{"anyblob", func() error { return blob.Upload(ctx, any, "up", bytes.NewReader(data), nil) }},
			{"minio-go", func() error {
				_, err := mc.PutObject(ctx, bucket, "up", bytes.NewReader(data), size, minio.PutObjectOptions{})
				return err
			}},
			{"aws-sdk-go-v2-Uploader", func() error {
				_, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("up"), Body: bytes.NewReader(data)})
				return err
			}},
		}
		for _, g := range gets {
			b.Run(fmt.Sprintf("%s/GET/%s", l.name, g.name), func(b *testing.B) { measureSize(b, size, g.get) })
		}
		for _, u := range puts {
			b.Run(fmt.Sprintf("%s/PUT/%s", l.name, u.name), func(b *testing.B) { measureSize(b, size, u.put) })
		}
		p.Close()
	}
}

// otherClients are minio-go and aws-sdk-go-v2 clients of MinIO ep through
// the simulated link at addr (host:port), each with its defaults.
func otherClients(b *testing.B, ep *emulator.MinIOServer, addr string) (*minio.Client, *s3.Client) {
	mc, err := minio.New(addr, &minio.Options{Creds: miniocreds.NewStaticV4(ep.AccessKey, ep.SecretKey, ""), Region: ep.Region})
	if err != nil {
		b.Fatal(err)
	}
	sdk := s3.New(s3.Options{Region: ep.Region, BaseEndpoint: aws.String("http://" + addr), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ep.AccessKey, ep.SecretKey, "")})
	return mc, sdk
}

// discardAt is an io.WriterAt that keeps nothing.
type discardAt struct{}

func (discardAt) WriteAt(p []byte, _ int64) (int, error) { return len(p), nil }

// measureSize is measure for objects of size bytes.
func measureSize(b *testing.B, size int64, op func() error) {
	b.SetBytes(size)
	var peak float64
	for b.Loop() {
		p := startPeak()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, p.stopPeak())
	}
	b.ReportMetric(peak, "peak-MiB")
}

// BenchmarkS3FarSmall writes 2,000 objects of 4 KiB from 16 goroutines
// through the simulated 40 MiB/s, 20 ms link: anyblob with the default
// options (MinIO's object+folder check before each write), anyblob with
// verbatim_keys, minio-go and aws-sdk-go-v2; then each reads the
// attributes of what it wrote (/HEAD). 16 / RTT is 800 ops/s.
//
//	cd bench && go test -run '^$' -bench BenchmarkS3FarSmall -benchtime 1x
func BenchmarkS3FarSmall(b *testing.B) {
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("HOME", b.TempDir())
	ep := emulator.MinIO(b)
	ctx := context.Background()
	p := startLink(b, strings.TrimPrefix(ep.Endpoint, "http://"), farLinks[0].link)
	endpoint := "http://" + p.Addr()
	creds := sigv4.StaticCredentials{AccessKeyID: ep.AccessKey, SecretAccessKey: ep.SecretKey}
	const bucket = "farsmall"
	open := func(verbatim bool) blob.Bucket {
		c, err := anyaws.New(ctx, anyaws.Options{Region: ep.Region, Endpoint: endpoint, UsePathStyle: true, VerbatimKeys: verbatim, Credentials: creds})
		if err != nil {
			b.Fatal(err)
		}
		bk, err := c.Bucket(bucket)
		if err != nil {
			b.Fatal(err)
		}
		return bk
	}
	{
		c, err := anyaws.New(ctx, anyaws.Options{Region: ep.Region, Endpoint: ep.Endpoint, UsePathStyle: true, Credentials: creds})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.CreateBucket(ctx, bucket); err != nil {
			b.Fatal(err)
		}
	}
	mc, sdk := otherClients(b, ep, p.Addr())
	data := bytes.Repeat([]byte("0123456789abcdef"), smallSize/16)
	def, verbatim := open(false), open(true)
	for _, cl := range []struct {
		name  string
		write func(key string) error
		head  func(key string) error // nil: as the client before
	}{
		{"anyblob", func(k string) error { return blob.WriteAll(ctx, def, k, data, nil) },
			func(k string) error { _, err := def.Attributes(ctx, k); return err }},
		{"anyblob-verbatim_keys", func(k string) error { return blob.WriteAll(ctx, verbatim, k, data, nil) }, nil},
		{"minio-go", func(k string) error {
			_, err := mc.PutObject(ctx, bucket, k, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
			return err
		}, func(k string) error { _, err := mc.StatObject(ctx, bucket, k, minio.StatObjectOptions{}); return err }},
		{"aws-sdk-go-v2", func(k string) error {
			_, err := sdk.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader(data)})
			return err
		}, func(k string) error {
			_, err := sdk.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
			return err
		}},
	} {
		key := func(i int) string { return fmt.Sprintf("%s/obj-%05d", cl.name, i) }
		b.Run(cl.name, func(b *testing.B) { smallOps(b, key, cl.write) })
		if cl.head != nil {
			b.Run(cl.name+"/HEAD", func(b *testing.B) { smallOps(b, key, cl.head) })
		}
	}
}

// smallOps runs op on smallCount keys from smallWorkers goroutines, b.N
// times, and reports the operations a second.
func smallOps(b *testing.B, key func(int) string, op func(string) error) {
	var elapsed time.Duration
	for b.Loop() {
		start := time.Now()
		keys := make(chan string)
		errs := make(chan error, smallWorkers)
		for range smallWorkers {
			go func() {
				var first error
				for k := range keys {
					if err := op(k); err != nil && first == nil {
						first = err
					}
				}
				errs <- first
			}()
		}
		for i := range smallCount {
			keys <- key(i)
		}
		close(keys)
		for range smallWorkers {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(smallCount*b.N)/elapsed.Seconds(), "ops/s")
}
