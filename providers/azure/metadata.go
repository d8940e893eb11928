package azure

import (
	"encoding/base64"
	"mime"
	"strings"

	"github.com/anyblob/anyblob/blob"
)

// metaName maps a metadata key (letters, digits, '-', '_') to a C#
// identifier, reversibly: '_' becomes "__" and '-' becomes "_h".
func metaName(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		switch k[i] {
		case '_':
			b.WriteString("__")
		case '-':
			b.WriteString("_h")
		default:
			b.WriteByte(k[i])
		}
	}
	return b.String()
}

// metaKey reverses metaName; ok is false for a name metaName cannot make
// (set by another tool), which is then returned as it is, lower-cased.
func metaKey(n string) (string, bool) {
	n = strings.ToLower(n)
	var b strings.Builder
	for i := 0; i < len(n); i++ {
		if n[i] != '_' {
			b.WriteByte(n[i])
			continue
		}
		if i+1 == len(n) {
			return n, false
		}
		switch n[i+1] {
		case '_':
			b.WriteByte('_')
		case 'h':
			b.WriteByte('-')
		default:
			return n, false
		}
		i++
	}
	return b.String(), true
}

// needsEncoding reports whether v cannot travel as a header value as it is.
func needsEncoding(v string) bool {
	if v != strings.TrimSpace(v) || strings.HasPrefix(v, "=?") {
		return true
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return true
		}
	}
	return false
}

func encodeMetadata(md map[string]string) (map[string]*string, error) {
	if len(md) == 0 {
		return nil, nil
	}
	out := make(map[string]*string, len(md))
	for k, v := range md {
		switch {
		case v == "":
			v = emptyWord // the service refuses an empty value
		case needsEncoding(v):
			// One "B" word, always (mime's encoder leaves ASCII as it is).
			v = "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(v)) + "?="
		}
		out[metaName(k)] = &v
	}
	return out, nil
}

var wordDecoder = mime.WordDecoder{}

// emptyWord stands for an empty value: an encoded word of nothing.
const emptyWord = "=?UTF-8?B??="

func decodeMetadata(md map[string]*string) (map[string]string, error) {
	out := make(map[string]string, len(md))
	for n, p := range md {
		k, _ := metaKey(n)
		v := deref(p)
		if v == emptyWord {
			v = ""
		} else if strings.HasPrefix(v, "=?") {
			d, err := wordDecoder.Decode(v)
			if err != nil {
				return nil, blob.Errorf(blob.ErrInternal, "azblob: metadata %q holds a bad encoded word: %v", k, err)
			}
			v = d
		}
		out[k] = v
	}
	return out, nil
}
