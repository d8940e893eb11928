package sigv4

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"
)

type s3StreamingFile struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	} `json:"credentials"`
	Region  string `json:"region"`
	Service string `json:"service"`
	Date    string `json:"x_amz_date"`
	Request struct {
		Method        string            `json:"method"`
		Path          string            `json:"path"`
		Host          string            `json:"host"`
		Headers       map[string]string `json:"headers"`
		SignedHeaders string            `json:"signed_headers"`
		Seed          string            `json:"seed_signature"`
	} `json:"request"`
	Chunks []struct {
		Size      int    `json:"size"`
		Header    string `json:"header"`
		Signature string `json:"signature"`
	} `json:"chunks"`
	Trailer struct {
		Trailers  string `json:"trailers"`
		Signature string `json:"signature"`
	} `json:"trailer_example_aws_c_auth"`
}

func loadStreaming(t *testing.T) (s3StreamingFile, time.Time, Credentials, *Signer) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(suiteDir(t), "s3-streaming.json"))
	require.NoError(t, err)
	var f s3StreamingFile
	require.NoError(t, json.Unmarshal(raw, &f))
	at, err := time.Parse("20060102T150405Z", f.Date)
	require.NoError(t, err)
	return f, at, Credentials{AccessKeyID: f.Credentials.AccessKeyID, SecretAccessKey: f.Credentials.SecretAccessKey},
		&Signer{Service: f.Service, Region: f.Region}
}

func TestStreamingDocExample(t *testing.T) {
	f, at, creds, s := loadStreaming(t)
	decoded, err := strconv.ParseInt(f.Request.Headers["x-amz-decoded-content-length"], 10, 64)
	require.NoError(t, err)
	body := bytes.Repeat([]byte{'a'}, int(decoded))
	req, err := http.NewRequest(f.Request.Method, "https://"+f.Request.Host+f.Request.Path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Amz-Storage-Class", f.Request.Headers["x-amz-storage-class"])

	require.NoError(t, s.SignStreaming(req, creds, f.Chunks[0].Size, at))
	for k, v := range f.Request.Headers {
		require.Equal(t, v, req.Header.Get(k), k)
	}
	wantLen, _ := strconv.ParseInt(f.Request.Headers["content-length"], 10, 64)
	require.Equal(t, wantLen, req.ContentLength)
	require.Equal(t, "AWS4-HMAC-SHA256 Credential="+creds.AccessKeyID+"/20130524/us-east-1/s3/aws4_request, SignedHeaders="+f.Request.SignedHeaders+", Signature="+f.Request.Seed, req.Header.Get("Authorization"))

	enc, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	require.EqualValues(t, wantLen, len(enc))
	br := bufio.NewReader(bytes.NewReader(enc))
	for _, c := range f.Chunks {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, c.Header+"\r\n", line)
		data := make([]byte, c.Size+2)
		_, err = io.ReadFull(br, data)
		require.NoError(t, err)
		if c.Size > 0 {
			require.Equal(t, body[:c.Size], data[:c.Size])
		}
		require.Equal(t, "\r\n", string(data[c.Size:]))
	}
	_, err = br.ReadByte()
	require.ErrorIs(t, err, io.EOF)

	// GetBody replays the same chunks.
	rc, err := req.GetBody()
	require.NoError(t, err)
	again, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.Equal(t, enc, again)

	// The trailer example chains from the final chunk signature.
	seed := &chunkSeed{key: deriveKey(creds.SecretAccessKey, []byte("20130524"), "us-east-1", "s3"), date: f.Date, region: "us-east-1", service: "s3"}
	var prev [64]byte
	copy(prev[:], f.Chunks[len(f.Chunks)-1].Signature)
	trailers := strings.ReplaceAll(f.Trailer.Trailers, `\n`, "\n")
	sig := seed.trailerSignature(&prev, []byte(trailers))
	require.Equal(t, f.Trailer.Signature, string(sig[:]))
}

func crc32cBase64(b []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestUnsignedTrailer(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	tests := []struct {
		name  string
		size  int
		chunk int
	}{
		{"empty", 0, MinChunkSize},
		{"one byte", 1, MinChunkSize},
		{"exact chunks", 2 * MinChunkSize, MinChunkSize},
		{"chunks and rest", 3*MinChunkSize + 17, MinChunkSize},
		{"default chunk", 100_000, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := make([]byte, tc.size)
			for i := range body {
				body[i] = byte(i * 7)
			}
			var rd io.Reader = bytes.NewReader(body)
			if tc.size == 0 {
				rd = nil
			}
			req, err := http.NewRequest(http.MethodPut, "http://127.0.0.1:9000/b/k", rd)
			require.NoError(t, err)
			require.NoError(t, s.SignUnsignedTrailer(req, testCreds, tc.chunk, testTime))
			require.Equal(t, StreamingUnsignedTrailer, req.Header.Get("X-Amz-Content-Sha256"))
			require.Equal(t, "aws-chunked", req.Header.Get("Content-Encoding"))
			require.Equal(t, TrailerChecksum, req.Header.Get("X-Amz-Trailer"))
			require.Equal(t, strconv.Itoa(tc.size), req.Header.Get("X-Amz-Decoded-Content-Length"))

			chunk := tc.chunk
			if chunk == 0 {
				chunk = DefaultChunkSize
			}
			var want bytes.Buffer
			for off := 0; off < tc.size; off += chunk {
				end := min(off+chunk, tc.size)
				fmt.Fprintf(&want, "%x\r\n%s\r\n", end-off, body[off:end])
			}
			fmt.Fprintf(&want, "0\r\nx-amz-checksum-crc32c:%s\r\n\r\n", crc32cBase64(body))

			got, err := io.ReadAll(iotest.OneByteReader(req.Body))
			require.NoError(t, err)
			require.Equal(t, want.String(), string(got))
			require.EqualValues(t, len(got), req.ContentLength)
			require.Equal(t, strconv.Itoa(len(got)), req.Header.Get("Content-Length"))
			require.EqualValues(t, len(got), UnsignedTrailerLength(int64(tc.size), tc.chunk))
		})
	}
}

func TestStreamingLengths(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	for _, size := range []int{0, 1, MinChunkSize - 1, MinChunkSize, MinChunkSize + 1, 5*MinChunkSize + 3} {
		for _, trailer := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/%v", size, trailer), func(t *testing.T) {
				req, err := http.NewRequest(http.MethodPut, "https://b.s3.amazonaws.com/k", bytes.NewReader(make([]byte, size)))
				require.NoError(t, err)
				req.ContentLength = int64(size)
				if trailer {
					require.NoError(t, s.SignStreamingTrailer(req, testCreds, MinChunkSize, testTime))
				} else {
					require.NoError(t, s.SignStreaming(req, testCreds, MinChunkSize, testTime))
					require.EqualValues(t, StreamingLength(int64(size), MinChunkSize), req.ContentLength)
				}
				got, err := io.ReadAll(req.Body)
				require.NoError(t, err)
				require.EqualValues(t, len(got), req.ContentLength)
				if trailer {
					require.Contains(t, string(got), "\r\nx-amz-checksum-crc32c:"+crc32cBase64(make([]byte, size))+"\r\nx-amz-trailer-signature:")
				}
			})
		}
	}
}

func TestStreamingErrors(t *testing.T) {
	s := &Signer{Service: "s3", Region: "us-east-1"}
	t.Run("unknown length", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPut, "https://b.s3.amazonaws.com/k", io.NopCloser(strings.NewReader("abc")))
		require.NoError(t, err)
		err = s.SignStreaming(req, testCreds, 0, testTime)
		require.ErrorIs(t, err, ErrInvalidRequest)
		require.ErrorContains(t, err, "exact length")
	})
	t.Run("small chunk", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPut, "https://b.s3.amazonaws.com/k", strings.NewReader("abc"))
		require.NoError(t, err)
		require.ErrorIs(t, s.SignStreaming(req, testCreds, 100, testTime), ErrInvalidRequest)
	})
	t.Run("sign error restores headers", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPut, "https://b.s3.amazonaws.com/k", strings.NewReader("abc"))
		require.NoError(t, err)
		req.Header.Set("Content-Encoding", "gzip")
		require.ErrorIs(t, s.SignStreaming(req, Credentials{}, 0, testTime), ErrNoCredentials)
		require.Equal(t, http.Header{"Content-Encoding": {"gzip"}}, req.Header)
		require.EqualValues(t, 3, req.ContentLength)
	})
	for _, tc := range []struct {
		name     string
		body     string
		declared int64
		msg      string
	}{
		{"short body", "abc", 5, "ended after 3 of 5 bytes"},
		{"long body", "abcdef", 5, "longer than the declared 5 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPut, "https://b.s3.amazonaws.com/k", strings.NewReader(tc.body))
			require.NoError(t, err)
			req.ContentLength = tc.declared
			require.NoError(t, s.SignStreaming(req, testCreds, 0, testTime))
			_, err = io.ReadAll(req.Body)
			require.ErrorIs(t, err, ErrBodyLength)
			require.ErrorContains(t, err, tc.msg)
		})
	}
	t.Run("read error passes through", func(t *testing.T) {
		boom := errors.New("boom")
		req, err := http.NewRequest(http.MethodPut, "https://b.s3.amazonaws.com/k", io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom)))
		require.NoError(t, err)
		req.ContentLength = 10
		require.NoError(t, s.SignUnsignedTrailer(req, testCreds, 0, testTime))
		_, err = io.ReadAll(req.Body)
		require.ErrorIs(t, err, boom)
	})
}
