package azure

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"io"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/internal/checksum"
	"github.com/anyblob/anyblob/internal/upload"
)

// MinBlockSize is the smallest block size the writer uses: a PartSize below
// it is raised to it (the service takes smaller blocks, but 50,000 tiny
// blocks hold little).
const MinBlockSize = 64 << 10

// MaxBlobSize is the largest block blob the writer plans for: 190 TiB, just
// under the service's 50,000 blocks of 4000 MiB, so that blocks growing from
// PartSize still reach it.
const MaxBlobSize = 190 << 40

// azureLimits are the block limits, for the upload engine.
var azureLimits = upload.Limits{Service: "Azure", MinPart: MinBlockSize, MaxPart: MaxBlockSize, MaxParts: MaxBlocks, MaxObject: MaxBlobSize}

// NewWriter starts a write through the shared upload engine
// (internal/upload): an object that fits in one block is sent with one Put
// Blob at Close; a larger one is staged as blocks while the caller writes,
// at most Concurrency at once (with Concurrency left at 0, 8, and for a
// file or other io.ReaderAt, whose blocks are read as they are sent, up to
// 16 while the rate grows), then committed with Put Block List. Block
// sizes grow from PartSize so that a stream of unknown size up to
// MaxBlobSize fits in 50,000 blocks. Every block carries its CRC64 (its
// MD5 on a server that refuses CRC64, such as Azurite in strict mode) and
// every single upload its MD5 (transactional validation), which the
// service checks before it keeps the bytes, and the blob's own MD5 is computed as the caller writes and stored with
// the commit (x-ms-blob-content-md5), so that later full reads are
// verified against it (see NewRangeReader). Nothing is visible before the commit; uncommitted blocks of an aborted
// write are never committed, and the service discards them within a week.
//
// BeforeWrite reaches *blockblob.UploadOptions for a single upload, or
// *blockblob.CommitBlockListOptions before the first block is staged.
func (d *driver) NewWriter(ctx context.Context, key string, opts *blob.WriterOptions) (blob.Writer, error) {
	part := opts.PartSize
	if part == 0 {
		part = DefaultPartSize
	}
	conc, most := opts.Concurrency, 0
	if conc == 0 {
		conc, most = DefaultConcurrency, upload.DefaultMaxSectionConcurrency
	}
	if opts.Checksum != "" && opts.Checksum != blob.ChecksumMD5 {
		return nil, blob.Errorf(blob.ErrNotImplemented, "azblob: Azure stores an MD5 of a blob, not a %s (its CRC64 is checked per request and not kept)", opts.Checksum)
	}
	cpkInfo, scope, err := encryption(opts.Encryption)
	if err != nil {
		return nil, err
	}
	md, err := encodeMetadata(opts.Metadata)
	if err != nil {
		return nil, err
	}
	t := &target{
		c:     d.c,
		cpk:   cpkInfo,
		scope: scope,
		bb:    d.cc.NewBlockBlobClient(stored(key)),
		headers: azblobblob.HTTPHeaders{
			BlobContentType:        nonEmpty(opts.ContentType, "application/octet-stream"),
			BlobContentEncoding:    nonEmpty(opts.ContentEncoding, ""),
			BlobContentDisposition: nonEmpty(opts.ContentDisposition, ""),
			BlobContentLanguage:    nonEmpty(opts.ContentLanguage, ""),
			BlobCacheControl:       nonEmpty(opts.CacheControl, ""),
		},
		metadata: md,
		hook:     opts.BeforeWrite,
		sum:      md5.New(),
		tags:     opts.Tags,
	}
	if opts.StorageClass != "" {
		tier := azblobblob.AccessTier(opts.StorageClass)
		t.tier = &tier
	}
	switch {
	case opts.IfNotExist:
		any := azcore.ETagAny
		t.cond = &azblobblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{IfNoneMatch: &any}}
	case opts.IfMatch != "":
		e := azcore.ETag(opts.IfMatch)
		t.cond = &azblobblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{IfMatch: &e}}
	}
	return &writer{Writer: upload.New(ctx, t, upload.Config{PartSize: part, Concurrency: conc, MaxSectionConcurrency: most, Limits: azureLimits, Hash: t.sum, Target: d.c.writeTarget})}, nil
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

// writer is the engine's Writer as a blob.Writer.
type writer struct{ *upload.Writer }

func (w *writer) As(any) bool { return false }

// target is one blob as the upload engine's Target: Put Blob for a small
// object, staged blocks for a large one.
type target struct {
	c        *Client
	bb       *blockblob.Client
	headers  azblobblob.HTTPHeaders
	metadata map[string]*string
	cond     *azblobblob.AccessConditions
	hook     func(func(any) bool) error
	commit   blockblob.CommitBlockListOptions
	sum      hash.Hash // the whole blob's MD5, fed by the engine in order
	tier     *azblobblob.AccessTier
	tags     map[string]string
	cpk      *azblobblob.CPKInfo      // a customer-provided key, on every request
	scope    *azblobblob.CPKScopeInfo // an encryption scope
}

// Put implements upload.Target: Put Blob, with the content's MD5.
func (t *target) Put(ctx context.Context, data []byte) error {
	// The engine has fed every byte of data, and nothing else, to t.sum:
	// the blob's MD5 is there already, with no second pass over data.
	sum := t.sum.Sum(nil)
	if t.headers.BlobContentMD5 == nil {
		t.headers.BlobContentMD5 = sum
	}
	o := &blockblob.UploadOptions{
		HTTPHeaders: &t.headers, Metadata: t.metadata, AccessConditions: t.cond,
		TransactionalValidation: azblobblob.TransferValidationTypeMD5(sum),
		Tier:                    t.tier, Tags: t.tags, CPKInfo: t.cpk, CPKScopeInfo: t.scope,
	}
	if err := blob.CallHook(t.hook, blob.NativeAs(o)); err != nil {
		return err
	}
	cctx, sent := countAttempts(ctx)
	_, err := t.bb.Upload(cctx, streaming.NopCloser(bytes.NewReader(data)), o)
	return t.lostAnswer(ctx, err, sent.Load(), sum)
}

// lostAnswer is err, unless err is a conditional write refused after it
// was sent more than once and the blob holds exactly what this write
// sent (its MD5 is sum): then an earlier attempt wrote it and its answer
// was lost, and the write succeeded. A blob written by someone else fails
// the write as it should.
func (t *target) lostAnswer(ctx context.Context, err error, sent int32, sum []byte) error {
	if err == nil || sent < 2 || t.cond == nil {
		return err
	}
	switch bloberrorCode(err) {
	case "BlobAlreadyExists", "ConditionNotMet":
	default:
		return err
	}
	p, perr := t.bb.GetProperties(ctx, nil)
	if perr == nil && bytes.Equal(p.ContentMD5, sum) {
		return nil
	}
	return err
}

// Start implements upload.Target: blocks are staged against the blob's
// name, with nothing to create first.
func (t *target) Start(context.Context) (upload.Session, error) {
	t.commit = blockblob.CommitBlockListOptions{HTTPHeaders: &t.headers, Metadata: t.metadata, AccessConditions: t.cond, Tier: t.tier, Tags: t.tags, CPKInfo: t.cpk, CPKScopeInfo: t.scope}
	if err := blob.CallHook(t.hook, blob.NativeAs(&t.commit)); err != nil {
		return nil, err
	}
	return t, nil
}

// blockID is the ID of block num: the same length for every block, as the
// service requires.
func blockID(num int) string {
	var raw [8]byte
	binary.BigEndian.PutUint64(raw[:], uint64(num-1))
	return base64.StdEncoding.EncodeToString(append([]byte("anyblob-"), raw[:]...))
}

// Part implements upload.Session: Put Block, with the block's checksum
// (see stage).
func (t *target) Part(ctx context.Context, num int, data []byte) (upload.Part, error) {
	return t.stage(ctx, num, func() io.ReadSeekCloser { return streaming.NopCloser(bytes.NewReader(data)) })
}

// PartFrom implements upload.SectionSession: Put Block read from a
// section of the caller's file or buffer (read once for its checksum,
// then as it is sent).
func (t *target) PartFrom(ctx context.Context, num int, section *io.SectionReader) (upload.Part, error) {
	return t.stage(ctx, num, func() io.ReadSeekCloser {
		return readSeekNopCloser{io.NewSectionReader(section, 0, section.Size())}
	})
}

// stage puts block num, whose bytes body returns from the start each time
// it is called, with the check the service makes of it before it keeps
// it: the block's CRC64 (x-ms-content-crc64: CRC-64/NVME, the checksum S3
// calls CRC64NVME, sent as 8 little-endian bytes), which costs less than
// half of what an MD5 does, so that a block is hashed once cheaply
// besides the blob's own MD5 (a third of the client's CPU on a fast link
// went to a second MD5). A server that refuses CRC64 (Azurite in its
// default strict mode answers FeatureNotSupported) gets the block again
// with its MD5, and so does every later block of the Client.
func (t *target) stage(ctx context.Context, num int, body func() io.ReadSeekCloser) (upload.Part, error) {
	id := blockID(num)
	for {
		useMD5 := t.c.blockMD5.Load()
		alg := blob.ChecksumCRC64NVME
		if useMD5 {
			alg = blob.ChecksumMD5
		}
		h := checksum.New(alg)
		if _, err := io.Copy(h, body()); err != nil {
			return upload.Part{}, err
		}
		var check azblobblob.TransferValidationType = azblobblob.TransferValidationTypeMD5(h.Sum(nil))
		if !useMD5 {
			check = azblobblob.TransferValidationTypeCRC64(h.(hash.Hash64).Sum64())
		}
		_, err := t.bb.StageBlock(ctx, id, body(), &blockblob.StageBlockOptions{
			TransactionalValidation: check,
			CPKInfo:                 t.cpk, CPKScopeInfo: t.scope,
		})
		if err != nil && !useMD5 && bloberrorCode(err) == "FeatureNotSupported" {
			t.c.blockMD5.Store(true)
			continue
		}
		return upload.Part{Num: num, ID: id}, err
	}
}

// readSeekNopCloser is a section as the io.ReadSeekCloser the SDK takes.
type readSeekNopCloser struct{ *io.SectionReader }

func (readSeekNopCloser) Close() error { return nil }

// Complete implements upload.Session: Put Block List, in order.
func (t *target) Complete(ctx context.Context, parts []upload.Part) error {
	ids := make([]string, len(parts))
	for i, p := range parts {
		ids[i] = p.ID
	}
	whole := t.sum.Sum(nil)
	if t.commit.HTTPHeaders != nil && t.commit.HTTPHeaders.BlobContentMD5 == nil {
		t.commit.HTTPHeaders.BlobContentMD5 = whole
	}
	cctx, sent := countAttempts(ctx)
	_, err := t.bb.CommitBlockList(cctx, ids, &t.commit)
	return t.lostAnswer(ctx, err, sent.Load(), whole)
}

// Abort implements upload.Session. Uncommitted blocks cannot be deleted
// without committing a blob; they are never committed, and the service
// discards them.
func (t *target) Abort(context.Context) error { return nil }
