package pager

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
)

func info(k string) (blob.ObjectInfo, bool) { return blob.ObjectInfo{Key: k}, true }

// pages walks every page and returns them as "o:key"/"p:prefix" lists.
func pages(t *testing.T, keys []string, o blob.ListOptions) [][]string {
	var out [][]string
	for range 100 {
		p, err := Page(keys, &o, info)
		require.NoError(t, err)
		var page []string
		oi, pi := 0, 0
		for oi < len(p.Objects) || pi < len(p.Prefixes) {
			if pi == len(p.Prefixes) || oi < len(p.Objects) && p.Objects[oi].Key < p.Prefixes[pi] {
				page = append(page, "o:"+p.Objects[oi].Key)
				oi++
			} else {
				page = append(page, "p:"+p.Prefixes[pi])
				pi++
			}
		}
		out = append(out, page)
		if p.NextPageToken == "" {
			return out
		}
		o.PageToken = p.NextPageToken
	}
	t.Fatal("paging never ended")
	return nil
}

func TestPageS3Rules(t *testing.T) {
	keys := []string{"a", "a/1", "a/2", "b", "c/x/y", "c/z", "d"}
	tests := []struct {
		name string
		opts blob.ListOptions
		want [][]string
	}{
		{"all in one page", blob.ListOptions{PageSize: 1000}, [][]string{{"o:a", "o:a/1", "o:a/2", "o:b", "o:c/x/y", "o:c/z", "o:d"}}},
		{"delimiter", blob.ListOptions{Delimiter: "/", PageSize: 1000}, [][]string{{"o:a", "p:a/", "o:b", "p:c/", "o:d"}}},
		{"prefixes count toward the page", blob.ListOptions{Delimiter: "/", PageSize: 2}, [][]string{{"o:a", "p:a/"}, {"o:b", "p:c/"}, {"o:d"}}},
		{"prefix and delimiter", blob.ListOptions{Prefix: "c/", Delimiter: "/", PageSize: 1}, [][]string{{"p:c/x/"}, {"o:c/z"}}},
		{"exact fill has no empty last page", blob.ListOptions{Prefix: "a/", PageSize: 2}, [][]string{{"o:a/1", "o:a/2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, pages(t, keys, tt.opts))
		})
	}
}

func TestTokens(t *testing.T) {
	for _, tc := range []struct {
		last   string
		prefix bool
	}{{"a", false}, {"dir/", true}, {"é/x%", false}} {
		after, isPrefix, err := After(Token(tc.last, tc.prefix))
		require.NoError(t, err)
		require.Equal(t, tc.last, after)
		require.Equal(t, tc.prefix, isPrefix)
	}
	for _, bad := range []string{"!!", "eA", "cXh5"} {
		_, _, err := After(bad)
		require.ErrorIs(t, err, blob.ErrInvalidArgument, bad)
	}
}
