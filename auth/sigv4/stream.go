package sigv4

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Chunk sizes of aws-chunked uploads.
const (
	// DefaultChunkSize is the chunk size used when 0 is given: 64 KiB.
	DefaultChunkSize = 64 << 10
	// MinChunkSize is the smallest chunk S3 accepts (but for the last).
	MinChunkSize = 8 << 10
)

// ErrBodyLength is returned by a streaming body when the body it encodes
// ends before, or goes on after, the length declared when signing.
var ErrBodyLength = errors.New("sigv4: body length differs from the declared length")

// TrailerChecksum is the trailer sent with StreamingUnsignedTrailer: the
// CRC32C (Castagnoli) of the body, base64 of its four big-endian bytes.
const TrailerChecksum = "x-amz-checksum-crc32c"

type streamMode int

const (
	streamSigned          streamMode = iota // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
	streamSignedTrailer                     // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
	streamUnsignedTrailer                   // STREAMING-UNSIGNED-PAYLOAD-TRAILER
)

const chunkSigPrefix = ";chunk-signature="

// crcLine is the length of "x-amz-checksum-crc32c:XXXXXXXX\r\n".
const crcLine = len(TrailerChecksum) + 1 + 8 + 2

// StreamingLength returns the Content-Length of a body of decoded bytes sent
// as STREAMING-AWS4-HMAC-SHA256-PAYLOAD in chunks of chunkSize (0 means
// DefaultChunkSize).
func StreamingLength(decoded int64, chunkSize int) int64 {
	return encodedLength(streamSigned, decoded, chunkSize)
}

// UnsignedTrailerLength returns the Content-Length of a body of decoded
// bytes sent as STREAMING-UNSIGNED-PAYLOAD-TRAILER with the CRC32C trailer,
// in chunks of chunkSize (0 means DefaultChunkSize).
func UnsignedTrailerLength(decoded int64, chunkSize int) int64 {
	return encodedLength(streamUnsignedTrailer, decoded, chunkSize)
}

func encodedLength(m streamMode, decoded int64, chunkSize int) int64 {
	if chunkSize <= 0 {
		chunkSize = DefaultChunkSize
	}
	cs := int64(chunkSize)
	per := func(n int64) int64 {
		l := int64(len(strconv.FormatInt(n, 16))) + 2 + n + 2
		if m != streamUnsignedTrailer {
			l += int64(len(chunkSigPrefix)) + 64
		}
		return l
	}
	full := decoded / cs
	total := full * per(cs)
	if rest := decoded % cs; rest > 0 {
		total += per(rest)
	}
	switch m {
	case streamSigned:
		total += 1 + int64(len(chunkSigPrefix)) + 64 + 2 + 2
	case streamSignedTrailer:
		total += 1 + int64(len(chunkSigPrefix)) + 64 + 2 + int64(crcLine) + int64(len("x-amz-trailer-signature:")) + 64 + 2 + 2
	case streamUnsignedTrailer:
		total += 3 + int64(crcLine) + 2
	}
	return total
}

// SignStreaming prepares req for an aws-chunked upload whose every chunk is
// signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) and signs it: it sets
// Content-Encoding (aws-chunked, before any encoding already there),
// X-Amz-Decoded-Content-Length to req.ContentLength, Content-Length and
// req.ContentLength to the encoded length, signs the headers with the seed
// signature, and replaces req.Body (and req.GetBody, when set) with a reader
// that emits the signed chunks of chunkSize bytes (0 means
// DefaultChunkSize; else at least MinChunkSize).
//
// req.ContentLength must be the body's exact length: a body of unknown
// length (ContentLength 0 with a body, or negative) fails with
// ErrInvalidRequest; a body that turns out shorter or longer fails the read
// with ErrBodyLength, so the server never gets a partial object. Other errors
// as for Sign.
func (s *Signer) SignStreaming(req *http.Request, c Credentials, chunkSize int, at time.Time) error {
	return s.signStream(req, &c, streamSigned, chunkSize, at)
}

// SignStreamingTrailer is SignStreaming with a signed CRC32C trailer
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER): X-Amz-Trailer is set to
// x-amz-checksum-crc32c, and after the final chunk the body carries the
// checksum and its x-amz-trailer-signature.
func (s *Signer) SignStreamingTrailer(req *http.Request, c Credentials, chunkSize int, at time.Time) error {
	return s.signStream(req, &c, streamSignedTrailer, chunkSize, at)
}

// SignUnsignedTrailer prepares req for an aws-chunked upload with unsigned
// chunks and a CRC32C checksum trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER)
// and signs its headers. It sets the headers SignStreaming sets plus
// X-Amz-Trailer: x-amz-checksum-crc32c; the body becomes
// "<hex size>\r\n<data>\r\n" chunks, "0\r\n", the trailer line and "\r\n".
// Errors as for SignStreaming.
func (s *Signer) SignUnsignedTrailer(req *http.Request, c Credentials, chunkSize int, at time.Time) error {
	return s.signStream(req, &c, streamUnsignedTrailer, chunkSize, at)
}

func (s *Signer) signStream(req *http.Request, c *Credentials, m streamMode, chunkSize int, at time.Time) error {
	chunkSize, err := checkStream(req, chunkSize)
	if err != nil {
		return err
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	decoded := req.ContentLength
	hasBody := req.Body != nil && req.Body != http.NoBody
	saved := setStreamHeaders(req, m, chunkSize)
	sig, err := s.sign(req, c, streamPayload(m), at, nil)
	if err != nil {
		saved.restore(req, decoded)
		return err
	}
	date := appendAmzDate(nil, splitTime(at))
	seed := &chunkSeed{
		mode:      m,
		key:       deriveKey(c.SecretAccessKey, date[:8], s.Region, s.Service),
		date:      string(date),
		region:    s.Region,
		service:   s.Service,
		seed:      sig,
		chunkSize: chunkSize,
		decoded:   decoded,
	}
	seed.wrapBody(req, hasBody)
	return nil
}

// checkStream checks the request and the chunk size (0: DefaultChunkSize)
// of a streaming signing, and returns the chunk size.
func checkStream(req *http.Request, chunkSize int) (int, error) {
	if req == nil {
		return 0, fmt.Errorf("%w: nil request", ErrInvalidRequest)
	}
	if chunkSize == 0 {
		chunkSize = DefaultChunkSize
	}
	if chunkSize < MinChunkSize {
		return 0, fmt.Errorf("%w: chunk size %d is below the minimum of %d bytes", ErrInvalidRequest, chunkSize, MinChunkSize)
	}
	decoded := req.ContentLength
	hasBody := req.Body != nil && req.Body != http.NoBody
	if decoded < 0 || decoded == 0 && hasBody {
		return 0, fmt.Errorf("%w: streaming signing needs the body's exact length in req.ContentLength", ErrInvalidRequest)
	}
	return chunkSize, nil
}

// streamPayload is the payload hash signed for mode m.
func streamPayload(m streamMode) string {
	switch m {
	case streamSignedTrailer:
		return StreamingPayloadTrailer
	case streamUnsignedTrailer:
		return StreamingUnsignedTrailer
	}
	return StreamingPayload
}

// streamHeaders are the values of the headers a streaming signing sets, as
// they were before it, so that a failed signing leaves req as it was.
type streamHeaders [4]struct {
	key  string
	vals []string
}

// setStreamHeaders sets Content-Encoding (aws-chunked first),
// X-Amz-Decoded-Content-Length, Content-Length and req.ContentLength (the
// encoded length) and, with a trailer, X-Amz-Trailer; it returns the
// headers as they were.
func setStreamHeaders(req *http.Request, m streamMode, chunkSize int) streamHeaders {
	h := req.Header
	enc := "aws-chunked"
	for _, v := range h.Values("Content-Encoding") {
		if v != "" && v != enc {
			enc += "," + v
		}
	}
	old := streamHeaders{{"Content-Encoding", h["Content-Encoding"]}, {"Content-Length", h["Content-Length"]}, {"X-Amz-Decoded-Content-Length", h["X-Amz-Decoded-Content-Length"]}, {"X-Amz-Trailer", h["X-Amz-Trailer"]}}
	decoded := req.ContentLength
	encoded := encodedLength(m, decoded, chunkSize)
	h.Set("Content-Encoding", enc)
	h.Set("X-Amz-Decoded-Content-Length", strconv.FormatInt(decoded, 10))
	h.Set("Content-Length", strconv.FormatInt(encoded, 10))
	if m != streamSigned {
		h.Set("X-Amz-Trailer", TrailerChecksum)
	}
	req.ContentLength = encoded
	return old
}

// restore puts back the headers of old and req.ContentLength.
func (old *streamHeaders) restore(req *http.Request, contentLength int64) {
	for _, o := range old {
		if o.vals == nil {
			req.Header.Del(o.key)
		} else {
			req.Header[o.key] = o.vals
		}
	}
	req.ContentLength = contentLength
}

// wrapBody replaces req.Body (and GetBody) with the aws-chunked encoding
// of the body.
func (seed *chunkSeed) wrapBody(req *http.Request, hasBody bool) {
	body := req.Body
	if hasBody {
		req.Body = readCloser{seed.reader(body), body}
	} else {
		req.Body = io.NopCloser(seed.reader(http.NoBody))
	}
	if getBody := req.GetBody; getBody != nil {
		req.GetBody = func() (io.ReadCloser, error) {
			b, err := getBody()
			if err != nil {
				return nil, err
			}
			return readCloser{seed.reader(b), b}, nil
		}
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// chunkSeed is what every chunk reader of one signed request starts from.
type chunkSeed struct {
	mode                  streamMode
	key                   *signingKey
	date, region, service string
	seed                  [64]byte
	chunkSize             int
	decoded               int64
}

func (s *chunkSeed) reader(body io.Reader) *chunkReader {
	r := &chunkReader{seed: s, body: body, prev: s.seed, remaining: s.decoded}
	if s.mode != streamSigned {
		r.crc = crc32.New(crc32.MakeTable(crc32.Castagnoli))
	}
	return r
}

// chunkReader encodes a body as aws-chunked, reading it one chunk at a time.
type chunkReader struct {
	seed      *chunkSeed
	body      io.Reader
	prev      [64]byte
	remaining int64
	crc       hash.Hash32
	data      []byte
	out       []byte
	pos       int
	done      bool
	err       error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for r.pos == len(r.out) {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		r.err = r.next()
	}
	n := copy(p, r.out[r.pos:])
	r.pos += n
	return n, nil
}

// next encodes the next chunk (or the final one and the trailer) into out.
func (r *chunkReader) next() error {
	r.out, r.pos = r.out[:0], 0
	n := int64(r.seed.chunkSize)
	if r.remaining < n {
		n = r.remaining
	}
	if n > 0 {
		if r.data == nil {
			r.data = make([]byte, r.seed.chunkSize)
			r.out = make([]byte, 0, r.seed.chunkSize+128)
		}
		data := r.data[:n]
		if got, err := io.ReadFull(r.body, data); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("%w: the body ended after %d of %d bytes", ErrBodyLength, r.seed.decoded-r.remaining+int64(got), r.seed.decoded)
			}
			return err
		}
		r.remaining -= n
		r.appendChunk(data)
		return nil
	}
	// All declared bytes are read: the body must end here.
	var one [1]byte
	for {
		k, err := r.body.Read(one[:])
		if k > 0 {
			return fmt.Errorf("%w: the body is longer than the declared %d bytes", ErrBodyLength, r.seed.decoded)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	r.appendChunk(nil)
	if r.crc != nil {
		var sum [4]byte
		binary.BigEndian.PutUint32(sum[:], r.crc.Sum32())
		line := TrailerChecksum + ":" + base64.StdEncoding.EncodeToString(sum[:])
		r.out = append(r.out, line...)
		r.out = append(r.out, '\r', '\n')
		if r.seed.mode == streamSignedTrailer {
			sig := r.seed.trailerSignature(&r.prev, []byte(line+"\n"))
			r.out = append(r.out, "x-amz-trailer-signature:"...)
			r.out = append(r.out, sig[:]...)
			r.out = append(r.out, '\r', '\n')
		}
	}
	r.out = append(r.out, '\r', '\n')
	r.done = true
	return nil
}

// appendChunk appends one encoded chunk of data (the final one when empty).
func (r *chunkReader) appendChunk(data []byte) {
	r.out = strconv.AppendInt(r.out, int64(len(data)), 16)
	if r.seed.mode != streamUnsignedTrailer {
		r.prev = r.seed.chunkSignature(&r.prev, data)
		r.out = append(r.out, chunkSigPrefix...)
		r.out = append(r.out, r.prev[:]...)
	}
	r.out = append(r.out, '\r', '\n')
	if len(data) > 0 {
		if r.crc != nil {
			r.crc.Write(data)
		}
		r.out = append(r.out, data...)
		r.out = append(r.out, '\r', '\n')
	}
}

// chunkSignature signs one chunk, chained from the previous signature.
func (s *chunkSeed) chunkSignature(prev *[64]byte, data []byte) [64]byte {
	sum := sha256.Sum256(data)
	sts := make([]byte, 0, 256)
	sts = append(sts, "AWS4-HMAC-SHA256-PAYLOAD\n"...)
	sts = s.appendScopeLines(sts, prev)
	sts = append(sts, EmptyPayloadHash+"\n"...)
	sts = appendHex(sts, sum[:])
	return s.mac(sts)
}

// trailerSignature signs the trailer lines ("name:value\n" each), chained
// from the final chunk's signature.
func (s *chunkSeed) trailerSignature(prev *[64]byte, lines []byte) [64]byte {
	sum := sha256.Sum256(lines)
	sts := make([]byte, 0, 256)
	sts = append(sts, "AWS4-HMAC-SHA256-TRAILER\n"...)
	sts = s.appendScopeLines(sts, prev)
	sts = appendHex(sts, sum[:])
	return s.mac(sts)
}

func (s *chunkSeed) appendScopeLines(b []byte, prev *[64]byte) []byte {
	b = append(b, s.date...)
	b = append(b, '\n')
	b = appendScope(b, []byte(s.date), s.region, s.service)
	b = append(b, '\n')
	b = append(b, prev[:]...)
	return append(b, '\n')
}

func (s *chunkSeed) mac(sts []byte) (sig [64]byte) {
	st := hmacPool.Get().(*hmacState)
	st.buf = append(st.buf[:0], sts...)
	sum := s.key.sum(st, st.buf)
	hmacPool.Put(st)
	putHex(sig[:], sum[:])
	return sig
}
