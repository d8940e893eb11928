//go:build unix

package fileblob

import (
	"errors"
	"os"
	"syscall"
)

// fileLock is a held flock(2) on the bucket's lock file.
type fileLock struct{ f *os.File }

// lock takes the bucket's lock, exclusive or shared, waiting for it. Every
// call opens the lock file anew: flock locks belong to an open file, so two
// goroutines of one process exclude each other just as two processes do.
func lock(root *os.Root, exclusive bool) (*fileLock, error) {
	f, err := root.OpenFile(lockName, os.O_RDWR|os.O_CREATE, 0o644)
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
func (l *fileLock) unlock() { l.f.Close() }

func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }
