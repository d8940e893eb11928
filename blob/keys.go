package blob

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen is the longest key, in bytes.
const MaxKeyLen = 1024

// ValidateKey returns nil for a key every backend accepts: valid UTF-8, 1 to
// MaxKeyLen bytes, no NUL. Anything else is ErrInvalidArgument with a message
// that says what is wrong. Keys are otherwise taken as they are: "a//b",
// "../x", "100%", "sp ace", a trailing "." or "/" are all valid, and every
// backend stores them exactly (escaping internally where it must).
func ValidateKey(key string) error {
	switch {
	case key == "":
		return Errorf(ErrInvalidArgument, "key is empty")
	case len(key) > MaxKeyLen:
		return Errorf(ErrInvalidArgument, "key is %d bytes, more than the %d allowed", len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return Errorf(ErrInvalidArgument, "key %q is not valid UTF-8", key)
	case strings.IndexByte(key, 0) >= 0:
		return Errorf(ErrInvalidArgument, "key %q contains a NUL byte", key)
	}
	return nil
}

// MaxMetadataKeyLen is the longest metadata key, in bytes.
const MaxMetadataKeyLen = 128

// ValidateMetadata checks user metadata against the rules of
// WriterOptions.Metadata and returns a copy with lower-cased keys. A nil map
// gives nil. Errors are ErrInvalidArgument.
func ValidateMetadata(md map[string]string) (map[string]string, error) {
	if md == nil {
		return nil, nil
	}
	out := make(map[string]string, len(md))
	for k, v := range md {
		if err := validateMetadataKey(k); err != nil {
			return nil, err
		}
		if !utf8.ValidString(v) {
			return nil, Errorf(ErrInvalidArgument, "metadata %q: value is not valid UTF-8", k)
		}
		lk := strings.ToLower(k)
		if _, dup := out[lk]; dup {
			return nil, Errorf(ErrInvalidArgument, "metadata keys %q differ from another only in case", k)
		}
		out[lk] = v
	}
	return out, nil
}

func validateMetadataKey(k string) error {
	if k == "" {
		return Errorf(ErrInvalidArgument, "metadata key is empty")
	}
	if len(k) > MaxMetadataKeyLen {
		return Errorf(ErrInvalidArgument, "metadata key %q is longer than %d bytes", k, MaxMetadataKeyLen)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		digit := c >= '0' && c <= '9'
		if i == 0 && !letter {
			return Errorf(ErrInvalidArgument, "metadata key %q must start with an ASCII letter", k)
		}
		if !letter && !digit && c != '-' && c != '_' {
			return Errorf(ErrInvalidArgument, "metadata key %q has %s; only ASCII letters, digits, '-' and '_' are allowed", k, fmt.Sprintf("%q", c))
		}
	}
	return nil
}

// MaxTags is the most tags an object carries (S3's and Azure's limit).
const MaxTags = 10

// ValidateTags checks an object's tags against the rules every backend
// applies, the ones S3 and Azure both accept: at most MaxTags; keys of 1
// to 128 bytes, values of up to 256; both made of ASCII letters, digits,
// spaces and + - . / : = _. Errors are ErrInvalidArgument naming the
// tag. nil or empty is valid (no tags).
func ValidateTags(tags map[string]string) error {
	if len(tags) > MaxTags {
		return Errorf(ErrInvalidArgument, "%d tags; at most %d are allowed", len(tags), MaxTags)
	}
	for k, v := range tags {
		if len(k) == 0 || len(k) > 128 {
			return Errorf(ErrInvalidArgument, "tag key %q is %d bytes; 1 to 128 are allowed", k, len(k))
		}
		if len(v) > 256 {
			return Errorf(ErrInvalidArgument, "tag %q has a value of %d bytes; at most 256 are allowed", k, len(v))
		}
		for _, s := range []string{k, v} {
			for i := 0; i < len(s); i++ {
				c := s[i]
				if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(" +-./:=_", c) >= 0 {
					continue
				}
				return Errorf(ErrInvalidArgument, "tag %q has %q in %q; tags take ASCII letters, digits, spaces and + - . / : = _", k, c, s)
			}
		}
	}
	return nil
}

// MaxHeaderLen is the longest content header value (ContentType,
// CacheControl, ...) a write, copy or signed URL accepts.
const MaxHeaderLen = 1024

// ValidateHeader checks a content header value (what names it, such as
// "ContentType", for the error): printable ASCII and tabs, at most
// MaxHeaderLen bytes. A CR or LF would split the HTTP header (net/http
// refuses it on S3 and Azure, GCS silently cut the value), other control
// characters are refused by the services, and bytes past ASCII are not
// carried the same way by every cloud (Azure's signature does not match
// them), so every backend refuses them alike, before any request. "" is
// valid (the default). Errors are ErrInvalidArgument, naming the header and
// the first bad byte's position, never quoting a value longer than 100
// bytes.
func ValidateHeader(what, v string) error {
	if len(v) > MaxHeaderLen {
		return Errorf(ErrInvalidArgument, "%s is %d bytes, more than the %d allowed", what, len(v), MaxHeaderLen)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\t' || c >= 0x20 && c < 0x7f {
			continue
		}
		shown := v
		if len(shown) > 100 {
			shown = shown[:100] + "..."
		}
		switch {
		case c == '\r' || c == '\n':
			return Errorf(ErrInvalidArgument, "%s %q has a line break at byte %d: a header value is one line", what, shown, i)
		case c >= 0x80:
			return Errorf(ErrInvalidArgument, "%s %q has a non-ASCII byte at %d: header values are ASCII on every backend", what, shown, i)
		}
		return Errorf(ErrInvalidArgument, "%s %q has the control character %#02x at byte %d", what, shown, c, i)
	}
	return nil
}
