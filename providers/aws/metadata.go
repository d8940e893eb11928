package aws

import (
	"encoding/base64"
	"mime"
	"net/http"
	"strings"
)

// metaPrefix starts the headers that carry user metadata.
const metaPrefix = "X-Amz-Meta-"

// encodeMetaValue returns v in a form an HTTP header carries unchanged.
// Printable ASCII without leading or trailing spaces goes as it is; anything
// else (non-ASCII, control characters, edge spaces, or text that itself
// looks like an encoded word) becomes one RFC 2047 "B" encoded word of its
// UTF-8 bytes, which decodeMetaValue (and most S3 tools) turn back.
func encodeMetaValue(v string) string {
	if !needsEncoding(v) {
		return v
	}
	return "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(v)) + "?="
}

func needsEncoding(v string) bool {
	if v == "" {
		return false
	}
	if v[0] == ' ' || v[len(v)-1] == ' ' || strings.Contains(v, "=?") {
		return true
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e {
			return true
		}
	}
	return false
}

var wordDecoder = mime.WordDecoder{}

// decodeMetaValue undoes encodeMetaValue, and decodes the RFC 2047 words
// other S3 clients write. A value that does not decode is returned as it is.
func decodeMetaValue(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// setMetadata writes md as x-amz-meta-* headers.
func setMetadata(h http.Header, md map[string]string) {
	for k, v := range md {
		h[http.CanonicalHeaderKey("x-amz-meta-"+k)] = []string{encodeMetaValue(v)}
	}
}

// metadataFrom reads the x-amz-meta-* headers back, keys in lower case.
func metadataFrom(h http.Header) map[string]string {
	md := map[string]string{}
	for k, vs := range h {
		if len(k) > len(metaPrefix) && strings.EqualFold(k[:len(metaPrefix)], metaPrefix) && len(vs) > 0 {
			md[strings.ToLower(k[len(metaPrefix):])] = decodeMetaValue(strings.Join(vs, ","))
		}
	}
	return md
}
