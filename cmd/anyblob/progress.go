package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// reporter tells the user what a transfer does: a line a file ("upload:
// a.csv to s3://b/a.csv", as aws s3 cp prints) on standard output unless
// -q, and, when standard error is a terminal, a progress bar there
// (bytes, rate, ETA and files done) which the lines scroll above. It is
// safe for concurrent use.
type reporter struct {
	mu       sync.Mutex
	out      io.Writer // the lines; nil with -q
	tty      io.Writer // the bar's terminal; nil when there is none
	bar      *progressbar.ProgressBar
	files    int // in all
	finished int // done or skipped
}

// newReporter reports on out (nil: no lines) and, when errOut is a
// terminal and quiet is false, with a bar on it.
func newReporter(out, errOut io.Writer, quiet bool) *reporter {
	r := &reporter{}
	if quiet {
		return r
	}
	r.out = out
	if f, ok := errOut.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.tty = f
	}
	return r
}

// begin starts a transfer of files files of total bytes (-1: unknown).
// One file gets a bar only when it is large enough to take a while.
func (r *reporter) begin(files int, total int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files, r.finished = files, 0
	if r.tty == nil || files == 1 && total >= 0 && total < 8<<20 {
		return
	}
	r.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(r.tty),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetDescription(r.describe()),
	)
}

func (r *reporter) describe() string { return fmt.Sprintf("%d/%d files", r.finished, r.files) }

// end removes the bar.
func (r *reporter) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Finish()
		_ = r.bar.Clear()
		r.bar = nil
	}
}

// add counts n bytes moved.
func (r *reporter) add(n int64) {
	if n == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Add64(n)
	}
}

// line prints one line, above the bar. Dry runs print theirs even with -q.
func (r *reporter) line(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lineLocked(s)
}

func (r *reporter) lineLocked(s string) {
	if r.bar != nil {
		_ = r.bar.Clear()
	}
	if r.out != nil {
		fmt.Fprintln(r.out, s)
	}
}

// done counts a file done, and prints its line unless its data went to
// standard output.
func (r *reporter) done(s string, toStdout bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished++
	if !toStdout {
		r.lineLocked(s)
	}
	if r.bar != nil {
		r.bar.Describe(r.describe())
	}
}

// skip counts a file skipped, of size bytes.
func (r *reporter) skip(size int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished++
	if r.bar != nil {
		r.bar.Describe(r.describe())
		if size > 0 {
			_ = r.bar.Add64(size)
		}
	}
}

// reader counts what is read from rd.
func (r *reporter) reader(rd io.Reader) io.Reader { return countReader{rd, r} }

// writer counts what is written to w.
func (r *reporter) writer(w io.Writer) io.Writer { return countWriter{w, r} }

// at counts what is written to w at offsets, from any goroutine.
func (r *reporter) at(w io.WriterAt) io.WriterAt {
	if ra, ok := w.(io.ReaderAt); ok {
		return countReadAt{countAt{w, r}, ra} // a file: a check may read back what was written
	}
	return countAt{w, r}
}

// countReadAt is a countAt that reads back what was written.
type countReadAt struct {
	countAt
	io.ReaderAt
}

type countAt struct {
	w   io.WriterAt
	rep *reporter
}

func (c countAt) WriteAt(p []byte, off int64) (int, error) {
	n, err := c.w.WriteAt(p, off)
	c.rep.add(int64(n))
	return n, err
}

// file counts what is read from f, keeping its ReadAt and Seek: a driver
// may read a file in sections, without part buffers.
func (r *reporter) file(f *os.File) io.Reader { return countFile{f, r} }

type countReader struct {
	r   io.Reader
	rep *reporter
}

func (c countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.rep.add(int64(n))
	return n, err
}

type countWriter struct {
	w   io.Writer
	rep *reporter
}

func (c countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.rep.add(int64(n))
	return n, err
}

type countFile struct {
	*os.File
	rep *reporter
}

func (c countFile) Read(p []byte) (int, error) {
	n, err := c.File.Read(p)
	c.rep.add(int64(n))
	return n, err
}

func (c countFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.File.ReadAt(p, off)
	c.rep.add(int64(n))
	return n, err
}
