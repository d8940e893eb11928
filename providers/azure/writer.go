package azure

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/anyblob/anyblob/blob"
)

func (d *driver) NewWriter(ctx context.Context, key string, opts *blob.WriterOptions) (blob.Writer, error) {
	part := opts.PartSize
	if part == 0 {
		part = DefaultPartSize
	}
	part = min(part, MaxBlockSize)
	conc := opts.Concurrency
	if conc == 0 {
		conc = DefaultConcurrency
	}
	md, err := encodeMetadata(opts.Metadata)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &writer{
		ctx: ctx, cancel: cancel, bb: d.cc.NewBlockBlobClient(stored(key)), part: int(part), conc: conc,
		headers: azblobblob.HTTPHeaders{
			BlobContentType:        nonEmpty(opts.ContentType, "application/octet-stream"),
			BlobContentEncoding:    nonEmpty(opts.ContentEncoding, ""),
			BlobContentDisposition: nonEmpty(opts.ContentDisposition, ""),
			BlobContentLanguage:    nonEmpty(opts.ContentLanguage, ""),
			BlobCacheControl:       nonEmpty(opts.CacheControl, ""),
		},
		metadata: md,
		sem:      make(chan struct{}, conc),
	}
	w.free = make(chan []byte, conc)
	switch {
	case opts.IfNotExist:
		any := azcore.ETagAny
		w.cond = &azblobblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{IfNoneMatch: &any}}
	case opts.IfMatch != "":
		e := azcore.ETag(opts.IfMatch)
		w.cond = &azblobblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{IfMatch: &e}}
	}
	return w, nil
}

func nonEmpty(s, def string) *string {
	if s == "" {
		s = def
	}
	if s == "" {
		return nil
	}
	return &s
}

// writer buffers one part; full parts are staged as blocks in the
// background, at most conc at once, their buffers recycled.
type writer struct {
	ctx      context.Context
	cancel   context.CancelFunc
	bb       *blockblob.Client
	part     int
	conc     int
	headers  azblobblob.HTTPHeaders
	metadata map[string]*string
	cond     *azblobblob.AccessConditions

	buf  []byte
	ids  []string
	sem  chan struct{}
	free chan []byte
	wg   sync.WaitGroup

	mu  sync.Mutex
	err error // first staging error
}

func (w *writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *writer) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if err := w.failed(); err != nil {
			return n, err
		}
		if w.buf == nil {
			select {
			case b := <-w.free:
				w.buf = b[:0]
			default:
				w.buf = make([]byte, 0, w.part)
			}
		}
		c := min(len(p), w.part-len(w.buf))
		w.buf = append(w.buf, p[:c]...)
		p, n = p[c:], n+c
		if len(w.buf) == w.part {
			if err := w.stage(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// stage sends the buffered part as the next block.
func (w *writer) stage() error {
	if len(w.ids) >= MaxBlocks {
		return blob.Errorf(blob.ErrInvalidArgument, "azblob: more than %d blocks of %d bytes; raise PartSize", MaxBlocks, w.part)
	}
	var raw [8]byte
	binary.BigEndian.PutUint64(raw[:], uint64(len(w.ids)))
	id := base64.StdEncoding.EncodeToString(append([]byte("anyblob-"), raw[:]...))
	w.ids = append(w.ids, id)
	data := w.buf
	w.buf = nil
	select {
	case w.sem <- struct{}{}:
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.sem }()
		_, err := w.bb.StageBlock(w.ctx, id, streaming.NopCloser(bytes.NewReader(data)), nil)
		select {
		case w.free <- data:
		default:
		}
		if err != nil {
			w.mu.Lock()
			if w.err == nil {
				w.err = err
			}
			w.mu.Unlock()
			w.cancel()
		}
	}()
	return nil
}

func (w *writer) Close() error {
	defer w.cancel()
	if len(w.ids) == 0 {
		// One request: Put Blob with the conditions.
		_, err := w.bb.Upload(w.ctx, streaming.NopCloser(bytes.NewReader(w.buf)), &blockblob.UploadOptions{
			HTTPHeaders: &w.headers, Metadata: w.metadata, AccessConditions: w.cond,
		})
		return err
	}
	if len(w.buf) > 0 {
		if err := w.stage(); err != nil {
			w.wg.Wait()
			return err
		}
	}
	w.wg.Wait()
	if err := w.failed(); err != nil {
		return err
	}
	_, err := w.bb.CommitBlockList(w.ctx, w.ids, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &w.headers, Metadata: w.metadata, AccessConditions: w.cond,
	})
	return err
}

// Abort cancels staging; nothing is committed.
func (w *writer) Abort(error) error {
	w.cancel()
	w.wg.Wait()
	return nil
}
