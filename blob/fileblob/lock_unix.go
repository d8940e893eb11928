//go:build unix

package fileblob

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// fileLock is a held flock(2) on the bucket's lock file; f is nil for a
// read that needed none.
type fileLock struct{ f *os.File }

// lockFile takes the bucket's lock, the file name, exclusive or shared,
// waiting for it. Every call opens the lock file anew: flock locks belong
// to an open file, so two goroutines of one process exclude each other
// just as two processes do.
//
// Only writers create the lock file (with the process umask, like any
// file). A reader opens it read-only, which flock allows; where there is
// none (no writer ever wrote here, or the directory is read-only to us)
// or it may not be read, the read takes no lock: nothing writes there
// through this package, or we could not lock anyway. So a directory the
// user can only read is read, and listed, without a trace.
func lockFile(root *os.Root, name string, exclusive bool) (*fileLock, error) {
	var f *os.File
	var err error
	if exclusive {
		f, err = root.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o666)
	} else {
		f, err = root.OpenFile(name, os.O_RDONLY, 0)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return &fileLock{}, nil
		}
	}
	if err != nil {
		return nil, fsError(err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fsError(err)
	}
	return &fileLock{f: f}, nil
}

// unlock releases the lock (closing the file releases the flock).
func (l *fileLock) unlock() {
	if l.f != nil {
		l.f.Close()
	}
}

func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }

// openNonblock opens a named pipe without waiting for a writer.
const openNonblock = syscall.O_NONBLOCK
