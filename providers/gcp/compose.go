package gcp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"sync"
	"time"

	"cloud.google.com/go/storage"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/googleapi"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/checksum"
	"github.com/anyblob/anyblob/internal/retry"
	"github.com/anyblob/anyblob/internal/upload"
)

// Composed writes (Options.ComposeWrites): defaults and limits.
const (
	// DefaultComposePrefix is where a composed write keeps its parts
	// while it runs (Options.ComposePrefix).
	DefaultComposePrefix = ".anyblob-compose/"
	// DefaultComposePartSize is the part size of a composed write when
	// WriterOptions.PartSize is 0.
	DefaultComposePartSize = 8 << 20
	// DefaultWriteConcurrency is how many parts of a composed write are
	// sent at once when WriterOptions.Concurrency is 0 (growing to
	// upload.DefaultMaxSectionConcurrency for a file or other io.ReaderAt
	// while the rate grows).
	DefaultWriteConcurrency = 8
	// maxComposeSources is the most objects one compose request takes.
	maxComposeSources = 32
)

// MaxComposedSize is the largest stream of unknown size a composed write
// plans for: 1 TiB. A composite object has at most 1,024 components; the
// parts of a stream grow from the part size (doubling every so many
// parts) so that this fits, where planning for GCS's full 5 TiB would
// make them double at almost every part, and a write of a few hundred
// MiB would go in a handful of unequal parts instead of many. A stream
// past the plan fails with ErrInvalidArgument when the parts run out. A
// file or other source of known size is cut in equal parts that fit any
// object GCS stores (5 TiB).
const MaxComposedSize = 1 << 40

// composeLimits are a composed write's limits, for the upload engine.
var composeLimits = upload.Limits{Service: "GCS (composed writes)", MinPart: 256 << 10, MaxPart: 5 << 30, MaxParts: 1024,
	MaxObject: 5 << 40, PlanObject: MaxComposedSize}

// composes reports whether a write with opts is composed: the client
// asks for it, and the write sets nothing a compose cannot keep. A
// conditional write is one stream, since its condition must hold at the
// moment the object appears, which only the final request can check, and
// not every server checks it on compose (fake-gcs-server does not); a
// customer-supplied key would have to travel with every part and compose;
// and a composite object has no MD5 for WriterOptions.Checksum MD5.
func (d *driver) composes(opts *blob.WriterOptions) bool {
	return d.c.opts.ComposeWrites && !opts.IfNotExist && opts.IfMatch == "" &&
		(opts.Encryption == nil || opts.Encryption.CustomerKey == nil) && opts.Checksum != blob.ChecksumMD5
}

// composedWriter starts a composed write of key: through the shared upload
// engine (internal/upload), an object that fits in one part is sent as
// the one-stream writer sends it (one request, its CRC32C declared);
// a larger one is sent as parts, each a temporary object under
// Options.ComposePrefix, several at once, and composed into key at
// Close. one is the one-stream writer, configured, whose Close sends a
// small object; beforeOne calls BeforeWrite on its storage.Writer.
func (d *driver) composedWriter(ctx context.Context, key string, opts *blob.WriterOptions, one *writer, beforeOne func() error) blob.Writer {
	part := opts.PartSize
	if part == 0 {
		part = DefaultComposePartSize
	}
	conc, most := opts.Concurrency, 0
	if conc == 0 {
		conc, most = DefaultWriteConcurrency, upload.DefaultMaxSectionConcurrency
	}
	t := &composeTarget{d: d, key: key, opts: opts, one: one, beforeOne: beforeOne}
	return &composeWriter{Writer: upload.New(ctx, t, upload.Config{PartSize: part, Concurrency: conc, MaxSectionConcurrency: most,
		Limits: composeLimits, Target: d.c.opts.WriteTarget}), one: one}
}

// composeWriter is the engine's Writer as a blob.Writer.
type composeWriter struct {
	*upload.Writer
	one *writer
}

// Close commits, and releases the one-stream writer whichever way the
// write went.
func (w *composeWriter) Close() error {
	defer w.one.cancel()
	return w.Writer.Close()
}

// Abort discards the write, and releases the one-stream writer.
func (w *composeWriter) Abort(reason error) error {
	defer w.one.cancel()
	return w.Writer.Abort(reason)
}

func (w *composeWriter) As(any) bool { return false }

// composeTarget is one object as the upload engine's Target.
type composeTarget struct {
	d         *driver
	key       string
	opts      *blob.WriterOptions
	one       *writer // sends an object that fits in one part
	beforeOne func() error
	// attrs are the object's attributes for the final compose, set up
	// by Start (and BeforeWrite).
	attrs storage.ObjectAttrs
}

// Put implements upload.Target: the one-stream writer's single request,
// with the CRC32C of data (no byte of a larger write is hashed in order:
// its parts' CRC32Cs are joined instead).
func (t *composeTarget) Put(_ context.Context, data []byte) error {
	if err := t.beforeOne(); err != nil {
		t.one.cancel()
		return err
	}
	t.one.crc.Write(data)
	t.one.buf, t.one.n = data, int64(len(data))
	return t.one.Close()
}

// Start implements upload.Target: the object's attributes are set up and
// shown to BeforeWrite (as *storage.ObjectAttrs), and the parts go under
// a prefix of their own, named by 16 random hex digits.
func (t *composeTarget) Start(ctx context.Context) (upload.Session, error) {
	t.one.cancel() // its storage.Writer was never written to
	opts := t.opts
	t.attrs = storage.ObjectAttrs{
		ContentType:        opts.ContentType,
		ContentEncoding:    opts.ContentEncoding,
		ContentDisposition: opts.ContentDisposition,
		ContentLanguage:    opts.ContentLanguage,
		CacheControl:       opts.CacheControl,
		Metadata:           maps.Clone(opts.Metadata),
		StorageClass:       opts.StorageClass,
	}
	if t.attrs.ContentType == "" {
		t.attrs.ContentType = "application/octet-stream"
	}
	if e := opts.Encryption; e != nil {
		t.attrs.KMSKeyName = e.KMSKey
	}
	if err := blob.CallHook(opts.BeforeWrite, blob.NativeAs(&t.attrs)); err != nil {
		return nil, err
	}
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return nil, err
	}
	prefix := t.d.c.opts.ComposePrefix
	if prefix == "" {
		prefix = DefaultComposePrefix
	}
	return &composeSession{t: t, base: prefix + hex.EncodeToString(r[:]) + "/", parts: map[int]composed{}}, nil
}

// composed is one object a composed write made: a part or an
// intermediate composite.
type composed struct {
	name string
	crc  uint32
	size int64
}

// composeSession is one composed write's parts.
type composeSession struct {
	t    *composeTarget
	base string

	mu    sync.Mutex
	parts map[int]composed
	made  []string // every temporary object that may exist, for cleanup
	// unsure: a part's request ended without an answer (the write was
	// canceled, or the connection failed), so the service may still
	// store it after Abort has looked: Abort looks again later.
	unsure bool
}

// Part implements upload.Session: data as the temporary object of part num.
func (s *composeSession) Part(ctx context.Context, num int, data []byte) (upload.Part, error) {
	return s.put(ctx, num, crc32.Checksum(data, castagnoli), int64(len(data)), func() io.Reader { return bytes.NewReader(data) })
}

// PartFrom implements upload.SectionSession: the section is read once for
// its CRC32C, then again as it is sent.
func (s *composeSession) PartFrom(ctx context.Context, num int, section *io.SectionReader) (upload.Part, error) {
	h := crc32.New(castagnoli)
	if _, err := io.Copy(h, io.NewSectionReader(section, 0, section.Size())); err != nil {
		return upload.Part{}, err
	}
	return s.put(ctx, num, h.Sum32(), section.Size(), func() io.Reader { return io.NewSectionReader(section, 0, section.Size()) })
}

// put uploads one part in one request that declares its CRC32C, and
// checks what the service stored (fake-gcs-server does not check the
// declared CRC32C; GCS does, and refuses the body). A body refused or
// stored changed, or a request that failed in a way worth retrying, is
// sent again from body() as Options.Retry allows: with one request per
// part, the storage library itself cannot resend it.
func (s *composeSession) put(ctx context.Context, num int, sum uint32, size int64, body func() io.Reader) (upload.Part, error) {
	name := fmt.Sprintf("%s%05d", s.base, num)
	s.mu.Lock()
	s.made = append(s.made, name)
	s.mu.Unlock()
	d := s.t.d
	for attempt := 1; ; attempt++ {
		w := d.bkt.Object(name).Retryer(storage.WithPolicy(storage.RetryNever)).NewWriter(ctx)
		w.ChunkSize = 0 // one request, streamed from body, no buffer
		w.ContentType = "application/octet-stream"
		w.CRC32C, w.SendCRC32C = sum, true
		if e := s.t.opts.Encryption; e != nil {
			w.KMSKeyName = e.KMSKey
		}
		_, err := io.Copy(w, body())
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			if a := w.Attrs(); a.CRC32C != sum || a.Size != size {
				err = blob.Errorf(blob.ErrInternal, "gs: part %d of a composed write was stored as %d bytes with CRC32C %08x, not the %d bytes with CRC32C %08x sent", num, a.Size, a.CRC32C, size, sum)
			} else {
				s.mu.Lock()
				s.parts[num] = composed{name: name, crc: sum, size: size}
				s.mu.Unlock()
				return upload.Part{Num: num, ID: name}, nil
			}
		}
		if !(storage.ShouldRetry(err) || checksumMismatch(err) || blob.KindOf(err) == blob.ErrInternal) || d.c.retry.Again(ctx, attempt, err) != nil {
			// A last request that got no answer may yet be stored (an
			// earlier one is replaced by the next attempt, of the same
			// name).
			var answered *googleapi.Error
			if !errors.As(err, &answered) && blob.KindOf(err) != blob.ErrInternal {
				s.mu.Lock()
				s.unsure = true
				s.mu.Unlock()
			}
			return upload.Part{}, err
		}
	}
}

// Complete implements upload.Session: the parts are composed, 32 at a time
// into intermediate composites while there are more than 32, then into the
// object, with the write's attributes and its CRC32C declared. What the
// service stored is checked against what was written (size and CRC32C);
// an object that differs is deleted (that generation) and the write fails
// with ErrInternal. The temporary objects are deleted in every case.
func (s *composeSession) Complete(ctx context.Context, parts []upload.Part) (err error) {
	defer func() { _ = s.Abort(ctx) }()
	s.mu.Lock()
	level := make([]composed, 0, len(parts))
	for _, p := range parts {
		level = append(level, s.parts[p.Num])
	}
	s.mu.Unlock()
	for round := 0; len(level) > maxComposeSources; round++ {
		if level, err = s.composeRound(ctx, round, level); err != nil {
			return err
		}
	}
	whole := join(level)
	d := s.t.d
	c := d.object(ctx, s.t.key).ComposerFrom(handles(d, level)...)
	c.ObjectAttrs = s.t.attrs
	c.CRC32C, c.SendCRC32C = whole.crc, true
	a, err := c.Run(ctx)
	if err != nil {
		return err
	}
	if a.Size != whole.size || a.CRC32C != whole.crc {
		return deleteWrong(ctx, d.object(ctx, s.t.key), a, whole.size, whole.crc)
	}
	return nil
}

// composeRound composes level, 32 objects at a time, into intermediate
// composites, at most DefaultWriteConcurrency requests at once, and
// returns them in order.
func (s *composeSession) composeRound(ctx context.Context, round int, level []composed) ([]composed, error) {
	next := make([]composed, (len(level)+maxComposeSources-1)/maxComposeSources)
	var g errgroup.Group
	g.SetLimit(DefaultWriteConcurrency)
	for i := range next {
		group := level[i*maxComposeSources : min((i+1)*maxComposeSources, len(level))]
		next[i] = join(group)
		next[i].name = fmt.Sprintf("%sc%d-%05d", s.base, round, i)
		s.mu.Lock()
		s.made = append(s.made, next[i].name)
		s.mu.Unlock()
		g.Go(func() error {
			d := s.t.d
			c := d.object(ctx, next[i].name).ComposerFrom(handles(d, group)...)
			c.ContentType = "application/octet-stream"
			c.CRC32C, c.SendCRC32C = next[i].crc, true
			a, err := c.Run(ctx)
			if err == nil && (a.CRC32C != next[i].crc || a.Size != next[i].size) {
				err = blob.Errorf(blob.ErrInternal, "gs: an intermediate compose stored %d bytes with CRC32C %08x, not %d bytes with CRC32C %08x", a.Size, a.CRC32C, next[i].size, next[i].crc)
			}
			return err
		})
	}
	return next, g.Wait()
}

// strayLooks are the pauses before Abort looks again under a write's
// prefix, when a part's request ended without an answer: the service may
// store such a part after the first look.
var strayLooks = []time.Duration{250 * time.Millisecond, time.Second}

// Abort implements upload.Session: every temporary object the write may
// have made is deleted (one that was never made is not an error). When a
// part's request ended without an answer, the write's prefix is listed
// again after each of strayLooks, and what is there is deleted too.
func (s *composeSession) Abort(ctx context.Context) error {
	s.mu.Lock()
	made, unsure := s.made, s.unsure
	s.made = nil
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), upload.CleanupTimeout)
	defer cancel()
	err := s.deleteAll(ctx, made)
	if !unsure {
		return err
	}
	for _, pause := range strayLooks {
		if retry.Sleep(ctx, pause) != nil {
			break
		}
		var left []string
		it := s.t.d.bkt.Objects(ctx, &storage.Query{Prefix: s.base})
		for {
			a, ierr := it.Next()
			if ierr != nil {
				break
			}
			left = append(left, a.Name)
		}
		if derr := s.deleteAll(ctx, left); err == nil {
			err = derr
		}
	}
	return err
}

// deleteAll deletes the objects named, DefaultWriteConcurrency at once;
// one that is not there is no error.
func (s *composeSession) deleteAll(ctx context.Context, made []string) error {
	var g errgroup.Group
	g.SetLimit(DefaultWriteConcurrency)
	for _, name := range made {
		g.Go(func() error {
			if err := s.t.d.object(ctx, name).Delete(ctx); err != nil && errorDetail(err).Kind != blob.ErrNotFound {
				return err
			}
			return nil
		})
	}
	return g.Wait()
}

// join is what composing objects gives: their CRC32Cs joined in order
// (internal/checksum.Combine) and their sizes added.
func join(objs []composed) composed {
	var out composed
	for i, o := range objs {
		if i == 0 {
			out.crc, out.size = o.crc, o.size
			continue
		}
		sum := checksum.Combine(blob.ChecksumCRC32C, be32(out.crc), be32(o.crc), o.size)
		out.crc, out.size = binary.BigEndian.Uint32(sum), out.size+o.size
	}
	return out
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// handles are the objects' handles, for a compose.
func handles(d *driver, objs []composed) []*storage.ObjectHandle {
	hs := make([]*storage.ObjectHandle, len(objs))
	for i, o := range objs {
		hs[i] = d.bkt.Object(o.name)
	}
	return hs
}

// castagnoli is CRC32C's table.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)
