package sigv4

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Codes of the streaming checks.
const (
	CodeMissingContentLength = "MissingContentLength"
	CodeNotImplemented       = "NotImplemented"
)

// maxChunk bounds one aws-chunked chunk a Verifier buffers: 16 MiB.
const maxChunk = 16 << 20

// checksums are the trailer checksums a Verifier checks: every algorithm S3
// takes (CRC32, CRC32C, CRC64NVME, SHA1, SHA256). CRC-64/NVME is the
// reflected polynomial 0x9a6c9329ac4bc9b5 with all-ones initial value and
// final xor, which is how hash/crc64 computes any table.
var checksums = map[string]func() hash.Hash{
	"x-amz-checksum-crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"x-amz-checksum-crc32":     func() hash.Hash { return crc32.NewIEEE() },
	"x-amz-checksum-crc64nvme": func() hash.Hash { return crc64.New(crc64NVMe) },
	"x-amz-checksum-sha1":      sha1.New,
	"x-amz-checksum-sha256":    sha256.New,
}

var crc64NVMe = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// wrapStreaming replaces req.Body with a decoder of the aws-chunked body
// that checks it as it is read.
func (v *Verifier) wrapStreaming(req *http.Request, s *Signer, payload string, f *authFields, c *Credentials, seedSig [64]byte) error {
	var mode streamMode
	switch payload {
	case StreamingPayload:
		mode = streamSigned
	case StreamingPayloadTrailer:
		mode = streamSignedTrailer
	case StreamingUnsignedTrailer:
		mode = streamUnsignedTrailer
	default:
		return verr(CodeNotImplemented, http.StatusNotImplemented, "the payload mode %q is not supported", truncate(payload))
	}
	dl := req.Header.Values("X-Amz-Decoded-Content-Length")
	if len(dl) != 1 {
		return verr(CodeMissingContentLength, http.StatusLengthRequired, "an aws-chunked body needs exactly one X-Amz-Decoded-Content-Length header")
	}
	declared, err := strconv.ParseInt(dl[0], 10, 64)
	if err != nil || declared < 0 {
		return verr(CodeIncompleteBody, 400, "X-Amz-Decoded-Content-Length %q is not a length", truncate(dl[0]))
	}
	d := &chunkDecoder{mode: mode, declared: declared, prev: seedSig}
	if mode != streamUnsignedTrailer {
		d.seed = &chunkSeed{
			mode:    mode,
			key:     deriveKey(c.SecretAccessKey, []byte(f.date[:8]), s.Region, s.Service),
			date:    f.date,
			region:  s.Region,
			service: s.Service,
		}
	}
	if mode != streamSigned {
		for _, name := range strings.Split(req.Header.Get("X-Amz-Trailer"), ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if mk, ok := checksums[name]; ok {
				d.ckName, d.ck = name, mk()
				break
			}
		}
	}
	body := req.Body
	if body == nil {
		body = http.NoBody
	}
	d.br = bufio.NewReaderSize(body, 4096)
	d.closer = body
	req.Body = d
	return nil
}

// chunkDecoder decodes and checks an aws-chunked body. It hands out a
// chunk's bytes only once the whole chunk is read and its signature
// checked.
type chunkDecoder struct {
	br       *bufio.Reader
	closer   io.Closer
	mode     streamMode
	seed     *chunkSeed
	prev     [64]byte
	declared int64
	got      int64
	chunks   int
	ckName   string
	ck       hash.Hash
	data     []byte
	pos      int
	done     bool
	err      error
}

func (d *chunkDecoder) Read(p []byte) (int, error) {
	for d.pos == len(d.data) {
		if d.err != nil {
			return 0, d.err
		}
		if d.done {
			return 0, io.EOF
		}
		d.err = d.next()
	}
	n := copy(p, d.data[d.pos:])
	d.pos += n
	return n, nil
}

// Close closes the underlying body.
func (d *chunkDecoder) Close() error { return d.closer.Close() }

func incomplete(format string, args ...any) *VerifyError {
	return verr(CodeIncompleteBody, 400, format, args...)
}

// line reads one CRLF-terminated line (without the CRLF).
func (d *chunkDecoder) line(what string) ([]byte, error) {
	l, err := d.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, incomplete("the %s line is too long", what)
	case errors.Is(err, io.EOF):
		return nil, incomplete("the body ended before the final chunk (after %d bytes)", d.got)
	case err != nil:
		return nil, err
	}
	if len(l) < 2 || l[len(l)-2] != '\r' {
		return nil, incomplete("the %s line does not end in CRLF", what)
	}
	return l[:len(l)-2], nil
}

// next reads the next chunk into d.data, checking its signature; after
// the final chunk it reads the trailer and the end of the body.
func (d *chunkDecoder) next() error {
	d.data, d.pos = d.data[:0], 0
	size, sig, err := d.chunkHeader()
	if err != nil {
		return err
	}
	if size > 0 {
		if err := d.chunkData(size); err != nil {
			d.data = d.data[:0]
			return err
		}
	}
	if d.seed != nil {
		want := d.seed.chunkSignature(&d.prev, d.data)
		if subtle.ConstantTimeCompare(want[:], sig[:]) != 1 {
			d.data = d.data[:0]
			return verr(CodeSignatureDoesNotMatch, 403, "the signature of chunk %d does not match", d.chunks)
		}
		d.prev = want
	}
	d.chunks++
	d.got += size
	if d.ck != nil {
		d.ck.Write(d.data)
	}
	if size > 0 {
		return nil
	}
	return d.final()
}

// chunkHeader reads a chunk header line: the size in hex and, for signed
// chunks, the chunk signature.
func (d *chunkDecoder) chunkHeader() (size int64, sig [64]byte, err error) {
	head, err := d.line("chunk header")
	if err != nil {
		return 0, sig, err
	}
	// head points into the bufio buffer: take what is needed before reading on.
	sizeHex := head
	if d.seed != nil {
		i := bytes.Index(head, []byte(chunkSigPrefix))
		if i < 0 || len(head)-i-len(chunkSigPrefix) != 64 {
			return 0, sig, verr(CodeSignatureDoesNotMatch, 403, "chunk %d has no chunk-signature", d.chunks)
		}
		sizeHex = head[:i]
		copy(sig[:], head[i+len(chunkSigPrefix):])
	}
	size, err = strconv.ParseInt(string(sizeHex), 16, 64)
	if err != nil || size < 0 || len(sizeHex) > 16 {
		return 0, sig, incomplete("chunk %d has a malformed size %q", d.chunks, truncate(string(sizeHex)))
	}
	if size > maxChunk {
		return 0, sig, incomplete("chunk %d of %d bytes exceeds the %d-byte limit", d.chunks, size, maxChunk)
	}
	if d.got+size > d.declared {
		return 0, sig, incomplete("the decoded body is longer than X-Amz-Decoded-Content-Length %d", d.declared)
	}
	return size, sig, nil
}

// chunkData reads size bytes of chunk data into d.data and the CRLF
// after them.
func (d *chunkDecoder) chunkData(size int64) error {
	if cap(d.data) < int(size) {
		d.data = make([]byte, size)
	}
	d.data = d.data[:size]
	if _, err := io.ReadFull(d.br, d.data); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return incomplete("the body ended inside chunk %d", d.chunks)
		}
		return err
	}
	crlf, err := d.line("chunk data")
	if err != nil {
		return err
	}
	if len(crlf) != 0 {
		return incomplete("chunk %d is longer than its declared size %d", d.chunks, size)
	}
	return nil
}

// final reads what follows the final chunk (a CRLF, or the trailer) and
// checks that the body ends there with the declared decoded length.
func (d *chunkDecoder) final() error {
	if d.mode == streamSigned {
		if crlf, err := d.line("final"); err != nil || len(crlf) != 0 {
			if err != nil {
				return err
			}
			return incomplete("the final chunk is not followed by CRLF")
		}
	} else if err := d.trailer(); err != nil {
		return err
	}
	if _, err := d.br.ReadByte(); err == nil {
		return incomplete("data follows the final chunk")
	}
	if d.got != d.declared {
		return incomplete("the decoded body has %d bytes, X-Amz-Decoded-Content-Length says %d", d.got, d.declared)
	}
	d.done = true
	return nil
}

// trailer reads the trailer lines up to the empty line, checking the
// trailer signature and the checksum.
func (d *chunkDecoder) trailer() error {
	var signed []byte
	var gotSum string
	sawSig := false
	for {
		l, err := d.line("trailer")
		if err != nil {
			return err
		}
		if len(l) == 0 {
			break
		}
		name, val, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			return incomplete("the trailer line %q is not name:value", truncate(string(l)))
		}
		lname := strings.ToLower(string(name))
		if lname == "x-amz-trailer-signature" {
			if d.seed == nil || sawSig {
				return incomplete("unexpected x-amz-trailer-signature")
			}
			sawSig = true
			want := d.seed.trailerSignature(&d.prev, signed)
			if subtle.ConstantTimeCompare(want[:], bytes.TrimSpace(val)) != 1 {
				return verr(CodeSignatureDoesNotMatch, 403, "the trailer signature does not match")
			}
			continue
		}
		if sawSig {
			return incomplete("trailer %q follows the trailer signature", lname)
		}
		signed = append(signed, lname...)
		signed = append(signed, ':')
		signed = append(signed, bytes.TrimSpace(val)...)
		signed = append(signed, '\n')
		if lname == d.ckName {
			gotSum = string(bytes.TrimSpace(val))
		}
	}
	if d.seed != nil && !sawSig {
		return verr(CodeSignatureDoesNotMatch, 403, "the trailer signature is missing")
	}
	if d.ck != nil {
		if gotSum == "" {
			return incomplete("the trailer %s announced in X-Amz-Trailer is missing", d.ckName)
		}
		want := base64.StdEncoding.EncodeToString(d.ck.Sum(nil))
		if gotSum != want {
			return verr(CodeBadDigest, 400, "the %s trailer %q does not match the body (%s)", d.ckName, truncate(gotSum), want)
		}
	}
	return nil
}
