package all_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
)

// pattern is n bytes that differ from one seed to the next.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31+i/257) ^ seed
	}
	return b
}

// TestFaultsOnEveryCloud puts MinIO, Azurite and fake-gcs-server behind the
// fault proxy and requires the same guarantees of all three: a flipped
// byte is never good data, one failure of any operation is retried,
// repeated failures end with their own kind before the caller's deadline,
// a read cut short resumes, a part that fails is retried and, when it
// keeps failing, is the write's error (not ErrCanceled) and leaves nothing
// visible and no multipart upload behind.
func TestFaultsOnEveryCloud(t *testing.T) {
	for _, fb := range faultyBackends(t, "faults", 1) {
		t.Run(fb.name, func(t *testing.T) {
			p := fb.proxy
			ctx := context.Background()
			b := fb.open(t, fastRetry)
			t.Cleanup(p.Clear)

			t.Run("a flipped byte fails the full read", func(t *testing.T) {
				defer p.Clear()
				// 9 MiB: large enough for a read that may go parallel,
				// which on loopback stays one stream (internal/pread).
				for _, n := range []int{64 << 10, 3 * fb.partSize, 9 << 20} {
					data := pattern(n, 1)
					key := fmt.Sprintf("flip-%d", n)
					require.NoError(t, blob.WriteAll(ctx, b, key, data, &blob.WriterOptions{PartSize: int64(fb.partSize)}))
					before := p.Struck()[faultproxy.FlipByte]
					p.Add(faultproxy.Rule{Kind: faultproxy.FlipByte, Match: fb.isRead, Times: 1})
					got, err := blob.ReadAll(ctx, b, key)
					require.ErrorIs(t, err, blob.ErrInternal, "%d bytes: a flipped byte is never good data (read %d bytes, equal %v)", n, len(got), bytes.Equal(got, data))
					require.Equal(t, 1, p.Struck()[faultproxy.FlipByte]-before)
					got, err = blob.ReadAll(ctx, b, key)
					require.NoError(t, err)
					require.True(t, bytes.Equal(data, got))
				}
			})

			t.Run("a byte flipped on the way up fails the write", func(t *testing.T) {
				defer p.Clear()
				once := fb.open(t, blob.RetryPolicy{MaxAttempts: 1})
				sizes := []int{64 << 10, 3*fb.partSize + 100}
				if fb.name == "gs" {
					// GCS checks the CRC32C the library sends with the last
					// chunk of a resumable upload; fake-gcs-server does not.
					sizes = sizes[:1]
				}
				// A staged write first, for each client to settle how it
				// checks blocks: strict Azurite refuses a block's CRC64,
				// and the Azure client then sends MD5s, which it checks.
				for _, c := range []blob.Bucket{once, b} {
					require.NoError(t, blob.WriteAll(ctx, c, "settle", pattern(3*fb.partSize, 6), &blob.WriterOptions{PartSize: int64(fb.partSize)}))
				}
				for _, n := range sizes {
					key := fmt.Sprintf("flipped-up-%d", n)
					data := pattern(n, 6)
					before := p.Struck()[faultproxy.FlipRequest]
					p.Add(faultproxy.Rule{Kind: faultproxy.FlipRequest, Match: fb.isWrite, Times: 1})
					err := blob.WriteAll(ctx, once, key, data, &blob.WriterOptions{PartSize: int64(fb.partSize)})
					require.Equal(t, 1, p.Struck()[faultproxy.FlipRequest]-before)
					require.Error(t, err, "%d bytes: the service refuses a corrupted body", n)
					ok, err := blob.Exists(ctx, fb.direct, key)
					require.NoError(t, err)
					require.False(t, ok, "%d bytes: nothing visible", n)
					if fb.uploads != nil {
						require.Zero(t, fb.uploads(t), "no multipart upload left")
					}

					// With retries, the corrupted attempt is one failure.
					p.Add(faultproxy.Rule{Kind: faultproxy.FlipRequest, Match: fb.isWrite, Times: 1})
					require.NoError(t, blob.WriteAll(ctx, b, key, data, &blob.WriterOptions{PartSize: int64(fb.partSize)}))
					got, err := blob.ReadAll(ctx, fb.direct, key)
					require.NoError(t, err)
					require.True(t, bytes.Equal(data, got))
				}
			})

			t.Run("one failure of each operation is retried", func(t *testing.T) {
				defer p.Clear()
				for _, kind := range []faultproxy.Kind{faultproxy.Status503, faultproxy.Status500, faultproxy.ResetRequest, faultproxy.ResetResponse} {
					key := "once-" + kind.String()
					data := pattern(10<<10, 2)
					before := p.Total()
					ops := []struct {
						name string
						do   func() error
					}{
						{"write", func() error { return blob.WriteAll(ctx, b, key, data, nil) }},
						{"read", func() error {
							got, err := blob.ReadAll(ctx, b, key)
							if err == nil && !bytes.Equal(got, data) {
								return fmt.Errorf("read back %d other bytes", len(got))
							}
							return err
						}},
						{"attributes", func() error { _, err := b.Attributes(ctx, key); return err }},
						{"list", func() error { _, err := b.List(ctx, &blob.ListOptions{Prefix: key}); return err }},
						{"copy", func() error { return b.Copy(ctx, key+"-copy", key, nil) }},
						{"delete", func() error { return b.Delete(ctx, key+"-copy") }},
					}
					for _, op := range ops {
						p.Add(faultproxy.Rule{Kind: kind, Times: 1})
						require.NoError(t, op.do(), "%s after one %s", op.name, kind)
					}
					require.Equal(t, len(ops), p.Total()-before, "every operation met its fault")
				}
			})

			t.Run("repeated failures end with their kind", func(t *testing.T) {
				defer p.Clear()
				for kind, want := range map[faultproxy.Kind]error{faultproxy.Status503: blob.ErrThrottled, faultproxy.Status500: blob.ErrInternal} {
					p.Clear()
					p.Add(faultproxy.Rule{Kind: kind})
					before := p.Total()
					ctx, cancel := context.WithTimeout(ctx, time.Minute)
					_, err := b.Attributes(ctx, "anything")
					require.ErrorIs(t, err, want, "%v", err)
					require.NotErrorIs(t, err, blob.ErrCanceled)
					require.Equal(t, blob.DefaultMaxAttempts, p.Total()-before, "sent MaxAttempts times")
					require.NoError(t, ctx.Err())
					cancel()

					// Waits longer than the deadline: the retries stop
					// before it, with the cause, not a deadline error.
					slow := fb.open(t, blob.RetryPolicy{MaxAttempts: 20, BaseDelay: 10 * time.Second, MaxDelay: 10 * time.Second})
					ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
					start := time.Now()
					_, err = slow.Attributes(ctx, "anything")
					require.ErrorIs(t, err, want, "%v", err)
					require.NotErrorIs(t, err, blob.ErrCanceled)
					require.NoError(t, ctx.Err(), "ended before the deadline, after %v", time.Since(start))
					cancel()
				}
			})

			t.Run("a read cut short resumes", func(t *testing.T) {
				defer p.Clear()
				data := pattern(1<<20, 3)
				require.NoError(t, blob.WriteAll(ctx, b, "cut", data, nil))
				before := p.Struck()[faultproxy.CutResponse]
				p.Add(faultproxy.Rule{Kind: faultproxy.CutResponse, Match: fb.isRead, Times: 2})
				got, err := blob.ReadAll(ctx, b, "cut")
				require.NoError(t, err)
				require.True(t, bytes.Equal(data, got), "whole, and checked")
				require.Equal(t, 2, p.Struck()[faultproxy.CutResponse]-before)
			})

			t.Run("a failed part is retried", func(t *testing.T) {
				defer p.Clear()
				data := pattern(3*fb.partSize+100, 4)
				for _, kind := range []faultproxy.Kind{faultproxy.ResetRequest, faultproxy.Status503} {
					before := p.Total()
					p.Add(faultproxy.Rule{Kind: kind, Match: fb.isWrite, Times: 2})
					require.NoError(t, blob.WriteAll(ctx, b, "parts", data, &blob.WriterOptions{PartSize: int64(fb.partSize)}))
					require.Equal(t, 2, p.Total()-before)
					got, err := blob.ReadAll(ctx, fb.direct, "parts")
					require.NoError(t, err)
					require.True(t, bytes.Equal(data, got))
				}
			})

			t.Run("an answer lost on a conditional write", func(t *testing.T) {
				defer p.Clear()
				for _, n := range []int{1000, 3*fb.partSize + 100} {
					key := fmt.Sprintf("lost-%d", n)
					data := pattern(n, 7)
					commit := fb.isWrite
					if n > fb.partSize {
						commit = fb.isCommit
					}
					p.Add(faultproxy.Rule{Kind: faultproxy.ResetResponse, Match: commit, Times: 1})
					before := p.Total()
					opts := &blob.WriterOptions{IfNotExist: true, PartSize: int64(fb.partSize)}
					require.NoError(t, blob.WriteAll(ctx, b, key, data, opts), "%d bytes: our own earlier attempt is not a lost race", n)
					require.Equal(t, 1, p.Total()-before)
					got, err := blob.ReadAll(ctx, fb.direct, key)
					require.NoError(t, err)
					require.True(t, bytes.Equal(data, got))

					// IfMatch the same way.
					a, err := b.Attributes(ctx, key)
					require.NoError(t, err)
					data2 := pattern(n, 8)
					p.Add(faultproxy.Rule{Kind: faultproxy.ResetResponse, Match: commit, Times: 1})
					require.NoError(t, blob.WriteAll(ctx, b, key, data2, &blob.WriterOptions{IfMatch: a.ETag, PartSize: int64(fb.partSize)}))

					// Someone else's object still fails the write, answer
					// lost or not.
					p.Add(faultproxy.Rule{Kind: faultproxy.ResetResponse, Match: commit, Times: 1})
					err = blob.WriteAll(ctx, b, key, pattern(n, 9), opts)
					require.ErrorIs(t, err, blob.ErrPreconditionFailed)
					got, err = blob.ReadAll(ctx, fb.direct, key)
					require.NoError(t, err)
					require.True(t, bytes.Equal(data2, got))
				}
			})

			t.Run("a part that keeps failing is the write's error", func(t *testing.T) {
				defer p.Clear()
				data := pattern(3*fb.partSize+100, 5)
				once := fb.open(t, blob.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})
				for _, kind := range []faultproxy.Kind{faultproxy.Status500, faultproxy.ResetRequest} {
					p.Clear()
					p.Add(faultproxy.Rule{Kind: kind, Match: fb.isWrite})
					w, err := once.NewWriter(ctx, "doomed", &blob.WriterOptions{PartSize: int64(fb.partSize)})
					require.NoError(t, err)
					_, werr := io.Copy(w, bytes.NewReader(data))
					err = w.Close()
					if werr != nil {
						err = werr
					}
					require.Error(t, err, kind.String())
					require.NotErrorIs(t, err, blob.ErrCanceled, "the caller canceled nothing: %v", err)
					if kind == faultproxy.Status500 {
						require.ErrorIs(t, err, blob.ErrInternal)
					}
					ok, err := blob.Exists(ctx, fb.direct, "doomed")
					require.NoError(t, err)
					require.False(t, ok, "nothing visible")
					if fb.uploads != nil {
						require.Zero(t, fb.uploads(t), "no multipart upload left")
					}
				}
			})
		})
	}
}
