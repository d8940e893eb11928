package aws

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// A profile is what the driver knows of one S3-compatible server, from its
// own documentation: which keys it stores under another name, moves or
// refuses, whether it can hold an object and keys under it at once, which
// integrity and conditional-write headers it honors, and its name limits.
// The package documentation has the table; Options.Profile and the URL's
// "profile=" choose one, and otherwise the endpoint's host or the Server
// header of the first answer do.
type profile struct {
	name   string // as in profile=
	server string // as in messages
	// rules are the keys the server would not store under their own name.
	rules keyRule
	// folders: the server keeps objects as files, so an object cannot
	// also be the folder of other keys ("a" and "a/b"); writes check
	// before they send.
	folders bool
	// fullCRC: multipart uploads take a full-object CRC32C
	// (x-amz-checksum-type FULL_OBJECT) and single writes a CRC32C; else
	// every body carries Content-MD5 and no x-amz-checksum-* header.
	fullCRC bool
	// conditional: PUT and CompleteMultipartUpload honor If-None-Match: *
	// and If-Match atomically; else conditional writes are refused.
	conditional bool
	// maxSegment is the longest path segment of a key, 0 for no limit.
	maxSegment int
	// equalParts: every part of a multipart upload but the last must be
	// the same size, so a stream's parts never grow (upload.Config.EqualParts).
	equalParts bool
	// hosts are endpoint host suffixes that name the server.
	hosts []string
	// header is a lower-case prefix of the Server header that names it.
	header string
}

// keyRule is a set of kinds of key a server stores under another name,
// moves, or refuses.
type keyRule uint8

const (
	leadingSlash keyRule = 1 << iota // "/x" (stored as "x", or refused)
	emptySegment                     // "a//b" (stored as "a/b", or never listed)
	dotSegment                       // "a/../b", "./x" (resolved, or refused)
	wholeDot                         // exactly "." or ".."
	backslash                        // '\' (turned into '/')
	nonNFC                           // Unicode not in NFC (normalized to it)
)

// The servers anyblob knows; generic is every other non-AWS endpoint. The
// facts come from each server's documentation and, where it says nothing,
// its issue tracker (read in December 2026):
//   - AWS: docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html,
//     .../conditional-writes.html, .../API/API_Checksum.html
//   - MinIO: its source (Server: MinIO; XMinioInvalidObjectName for a
//     leading '/', XMinioInvalidResourceName for dot segments) and, run
//     here, the pinned release's listings, which hide "a/1" beside "a"
//   - Ceph RGW: github.com/ceph/ceph doc/radosgw/s3.rst, rgw.yaml.in;
//     full-object checksums in PR 61878 (2025)
//   - R2: developers.cloudflare.com/r2/reference/unicode-interoperability/
//     (keys normalized to NFC), /r2/objects/multipart-objects (equal parts),
//     /r2/api/s3/conditional-operations/
//   - B2: backblaze.com/docs/cloud-storage-s3-compatible-api (names,
//     unsupported x-amz-checksum-* headers)
//   - Wasabi: docs.wasabi.com/apidocs/rest-api-introduction (nothing on
//     keys or conditions: the generic rules, no conditional writes)
//   - GCS: cloud.google.com/storage/docs/naming-objects,
//     /storage/docs/multipart-uploads (no preconditions)
//   - SeaweedFS: github.com/seaweedfs/seaweedfs issues 7153, 8800 (If-None-Match
//     ignored, then not atomic), PR 10236 (full-object checksums, 2026)
//   - Garage: garagehq.deuxfleurs.fr/reference_manual/s3_compatibility.html
var (
	awsProfile = &profile{name: "aws", server: "AWS S3", fullCRC: true, conditional: true,
		hosts: []string{".amazonaws.com", ".amazonaws.com.cn"}, header: "amazons3"}
	minioProfile = &profile{name: "minio", server: "MinIO", rules: leadingSlash | emptySegment | dotSegment,
		folders: true, fullCRC: true, conditional: true, maxSegment: 255, header: "minio"}
	genericProfile = &profile{name: "generic", server: "an S3-compatible server", rules: leadingSlash | emptySegment | dotSegment,
		fullCRC: true, conditional: true}
	profiles = []*profile{
		awsProfile,
		minioProfile,
		{name: "ceph", server: "Ceph RGW", conditional: true, header: "ceph"},
		{name: "r2", server: "Cloudflare R2", rules: nonNFC, conditional: true, equalParts: true, hosts: []string{".r2.cloudflarestorage.com"}},
		{name: "b2", server: "Backblaze B2", rules: leadingSlash | emptySegment | backslash, hosts: []string{".backblazeb2.com"}},
		{name: "wasabi", server: "Wasabi", rules: leadingSlash | emptySegment | dotSegment, hosts: []string{".wasabisys.com"}},
		{name: "gcs", server: "Google Cloud Storage (XML API)", rules: wholeDot, hosts: []string{"storage.googleapis.com"}},
		{name: "seaweedfs", server: "SeaweedFS", rules: leadingSlash | emptySegment | dotSegment | backslash,
			folders: true, header: "seaweedfs"},
		{name: "garage", server: "Garage"},
		genericProfile,
	}
)

// ProfileNames are the values Options.Profile (and profile=) take.
func ProfileNames() []string {
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.name
	}
	return names
}

func profileNamed(name string) *profile {
	i := slices.IndexFunc(profiles, func(p *profile) bool { return p.name == name })
	if i < 0 {
		return nil
	}
	return profiles[i]
}

// profileOfHost is the profile an endpoint host names, or nil.
func profileOfHost(host string) *profile {
	host = strings.ToLower(host)
	for _, p := range profiles {
		for _, h := range p.hosts {
			if host == strings.TrimPrefix(h, ".") || strings.HasSuffix(host, h) {
				return p
			}
		}
	}
	return nil
}

// profileOfServer is the profile a Server header names; generic when none.
func profileOfServer(server string) *profile {
	s := strings.ToLower(server)
	for _, p := range profiles {
		if p.header != "" && strings.HasPrefix(s, p.header) {
			return p
		}
	}
	return genericProfile
}

// Profile returns the name of the server profile in use ("aws", "minio",
// "generic", ...; see ProfileNames), "" while it is not known yet: no
// Options.Profile, an endpoint whose host names no server, and no answer
// yet whose Server header would.
func (c *Client) Profile() string {
	if p := c.knownProfile(); p != nil {
		return p.name
	}
	return ""
}

func (c *Client) knownProfile() *profile {
	if c.profile != nil {
		return c.profile
	}
	return c.detected.Load() // nil before the first answer
}

// profileFor returns the profile in use, asking the server once (a HEAD of
// bucket, whose own outcome does not matter) when nothing named it yet;
// callers that ask meanwhile wait for that answer instead of asking too.
func (c *Client) profileFor(ctx context.Context, bucket string) (*profile, error) {
	if p := c.knownProfile(); p != nil {
		return p, nil
	}
	_ = c.probes.do(ctx, bucket, func(ctx context.Context) error {
		if c.knownProfile() == nil { // else learned by a flight that ended after this call looked
			_, _, _ = c.doRead(ctx, &Request{Method: http.MethodHead, Bucket: bucket})
		}
		return nil
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p := c.knownProfile(); p != nil {
		return p, nil
	}
	return genericProfile, nil // no answer at all: the safe rules
}

// breaks says which rule key breaks ("" when none).
func (r keyRule) breaks(key string) string {
	if r&leadingSlash != 0 && strings.HasPrefix(key, "/") {
		return "a leading '/'"
	}
	if r&wholeDot != 0 && (key == "." || key == "..") {
		return "the name '" + key + "'"
	}
	if r&(emptySegment|dotSegment) != 0 {
		segs := strings.Split(key, "/")
		for i, seg := range segs {
			switch {
			case r&emptySegment != 0 && seg == "" && i > 0 && i < len(segs)-1:
				return "an empty path segment ('//')"
			case r&dotSegment != 0 && (seg == "." || seg == ".."):
				return "a '" + seg + "' path segment"
			}
		}
	}
	if r&backslash != 0 && strings.Contains(key, `\`) {
		return `a '\' (stored as '/')`
	}
	if r&nonNFC != 0 && !norm.NFC.IsNormalString(key) {
		return "Unicode not in normalization form C (stored normalized, so under other bytes)"
	}
	return ""
}
