package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProgressBar: on a terminal the bar shows bytes, rate and files
// done, and the lines scroll above it; it is gone at the end. Off a
// terminal (the other tests) there is no bar, only the lines.
func TestProgressBar(t *testing.T) {
	var tty, out bytes.Buffer
	r := &reporter{out: &out, tty: &tty}
	r.begin(2, 20<<20)
	r.add(10 << 20)
	r.done("upload: a to :a", false)
	r.add(10 << 20)
	r.done("upload: b to :b", false)
	r.end()
	require.Equal(t, "upload: a to :a\nupload: b to :b\n", out.String())
	require.Contains(t, tty.String(), "MiB")
	require.Contains(t, tty.String(), "/2 files")

	quiet := newReporter(&out, &tty, true)
	quiet.begin(1, 1)
	quiet.done("upload: c to :c", false)
	quiet.end()
	require.False(t, strings.Contains(out.String(), "upload: c"))
	require.Nil(t, newReporter(&out, &tty, false).tty, "a buffer is no terminal")
}
