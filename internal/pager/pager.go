// Package pager holds the page tokens of the buckets that page by "last
// entry returned" (memblob, fileblob, the GCS driver), and turns a sorted
// set of keys into the pages of a List call with the rules of S3's
// ListObjectsV2, for the buckets that keep their keys themselves.
package pager

import (
	"encoding/base64"
	"strings"

	"github.com/anyblob/anyblob/blob"
)

// After decodes a page token into the key or common prefix that ended the
// previous page; isPrefix tells which. An empty token is the start. A token
// this package did not make is ErrInvalidArgument.
func After(token string) (after string, isPrefix bool, err error) {
	if token == "" {
		return "", false, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 2 || (raw[0] != 'k' && raw[0] != 'p') {
		return "", false, blob.Errorf(blob.ErrInvalidArgument, "page token %q was not made by this bucket", token)
	}
	return string(raw[1:]), raw[0] == 'p', nil
}

// Token encodes the key or common prefix that ends a page; After decodes it.
func Token(last string, isPrefix bool) string {
	kind := "k"
	if isPrefix {
		kind = "p"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(kind + last))
}

// Page builds one page from keys, which must be sorted in byte order and
// may hold any keys (those outside opts.Prefix or not after the token are
// passed over). info describes an object; it returns false for a key that
// vanished since keys was made, which the page then leaves out.
//
// PageSize counts objects and common prefixes together, as S3's max-keys
// does. The token records the last key or prefix returned, so a listing
// goes on correctly after the objects of earlier pages are deleted.
func Page(keys []string, opts *blob.ListOptions, info func(key string) (blob.ObjectInfo, bool)) (*blob.ListPage, error) {
	after, afterPrefix, err := After(opts.PageToken)
	if err != nil {
		return nil, err
	}
	page := &blob.ListPage{}
	n := 0
	last, lastIsPrefix := "", false
	// full ends the page with a token when it already holds PageSize entries.
	full := func() bool {
		if n < opts.PageSize {
			return false
		}
		page.NextPageToken = Token(last, lastIsPrefix)
		return true
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, opts.Prefix) || k <= after || (afterPrefix && strings.HasPrefix(k, after)) {
			continue
		}
		if opts.Delimiter != "" {
			rest := k[len(opts.Prefix):]
			if i := strings.Index(rest, opts.Delimiter); i >= 0 {
				p := k[:len(opts.Prefix)+i+len(opts.Delimiter)]
				if lastIsPrefix && p == last {
					continue
				}
				if full() {
					return page, nil
				}
				page.Prefixes = append(page.Prefixes, p)
				last, lastIsPrefix = p, true
				n++
				continue
			}
		}
		obj, ok := info(k)
		if !ok {
			continue
		}
		if full() {
			return page, nil
		}
		page.Objects = append(page.Objects, obj)
		last, lastIsPrefix = k, false
		n++
	}
	return page, nil
}
