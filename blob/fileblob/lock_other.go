//go:build !unix

package fileblob

import (
	"os"
	"sync"
)

// Without flock(2) the lock only orders the goroutines of one process.
var processLock sync.RWMutex

type fileLock struct{ exclusive bool }

func lockFile(_ *os.Root, _ string, exclusive bool) (*fileLock, error) {
	if exclusive {
		processLock.Lock()
	} else {
		processLock.RLock()
	}
	return &fileLock{exclusive: exclusive}, nil
}

func (l *fileLock) unlock() {
	if l.exclusive {
		processLock.Unlock()
	} else {
		processLock.RUnlock()
	}
}

func isNotDir(error) bool { return false }

const openNonblock = 0
