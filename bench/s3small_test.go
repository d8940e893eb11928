package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"

	"github.com/anyblob/anyblob/blob"
)

// Small objects: 2,000 objects of 4 KiB written, then read, by 16
// goroutines at once.
const (
	smallCount   = 2000
	smallSize    = 4 << 10
	smallWorkers = 16
)

// BenchmarkS3Small compares many small writes and reads through anyblob
// (with the default options, whose writes first check that MinIO will not
// hide the object; with blob/otelblob observing on the OpenTelemetry API's
// no-op providers, as when an application sets no SDK; and with
// verbatim_keys, which skips MinIO's check), minio-go and aws-sdk-go-v2 on
// one MinIO. ops/s counts writes and reads;
// peak-MiB is the live heap's peak above its level at the start of a run
// (garbage not yet collected included, as the GC leaves it), cpu-ms/op the
// client's CPU time per run of 4,000 operations.
//
//	cd bench && go test -run '^$' -bench BenchmarkS3Small -benchtime 3x
func BenchmarkS3Small(b *testing.B) {
	c := newS3Clients(b)
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789abcdef"), smallSize/16)
	clients := []struct {
		name  string
		write func(key string) error
		read  func(key string) error
	}{
		{"anyblob",
			func(key string) error { return blob.WriteAll(ctx, c.any, key, data, nil) },
			func(key string) error { _, err := blob.ReadAll(ctx, c.any, key); return err }},
		{"anyblob-otel-noop",
			func(key string) error { return blob.WriteAll(ctx, c.otelNoop, key, data, nil) },
			func(key string) error { _, err := blob.ReadAll(ctx, c.otelNoop, key); return err }},
		{"anyblob-verbatim_keys",
			func(key string) error { return blob.WriteAll(ctx, c.verbatim, key, data, nil) },
			func(key string) error { _, err := blob.ReadAll(ctx, c.verbatim, key); return err }},
		{"minio-go",
			func(key string) error {
				_, err := c.mc.PutObject(ctx, c.bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
				return err
			},
			func(key string) error {
				o, err := c.mc.GetObject(ctx, c.bucket, key, minio.GetObjectOptions{})
				if err != nil {
					return err
				}
				defer o.Close()
				_, err = io.ReadAll(o)
				return err
			}},
		{"aws-sdk-go-v2",
			func(key string) error {
				_, err := c.sdk.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
				return err
			},
			func(key string) error {
				out, err := c.sdk.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(key)})
				if err != nil {
					return err
				}
				defer out.Body.Close()
				_, err = io.ReadAll(out.Body)
				return err
			}},
	}
	for _, cl := range clients {
		b.Run(cl.name, func(b *testing.B) {
			var peak float64
			var elapsed time.Duration
			start := cpuTime()
			for b.Loop() {
				p := startPeak()
				t0 := time.Now()
				for _, op := range []func(string) error{cl.write, cl.read} {
					if err := fanOut(op, cl.name); err != nil {
						b.Fatal(err)
					}
				}
				elapsed += time.Since(t0)
				peak = max(peak, p.stopPeak())
			}
			b.ReportMetric(float64(2*smallCount*b.N)/elapsed.Seconds(), "ops/s")
			b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			b.ReportMetric(peak, "peak-MiB")
		})
	}
}

// fanOut runs op on smallCount keys with smallWorkers goroutines.
func fanOut(op func(key string) error, prefix string) error {
	keys := make(chan string)
	errs := make(chan error, smallWorkers)
	var wg sync.WaitGroup
	for range smallWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				if err := op(k); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range smallCount {
		keys <- fmt.Sprintf("small/%s/%04d", prefix, i)
	}
	close(keys)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}
