package fileblob

import (
	"path"
	"runtime"
	"strings"
)

// The natural layout: a key is its own path. See the package documentation
// for the rules.

const (
	// hiddenDir is the one folder, in the root, where the natural layout
	// keeps what is not an object's data.
	hiddenDir = ".anyblob"
	// Below hiddenDir: the lock, temporary files, each object's metadata
	// (named by the escaped layout of its key) and the keys no file system
	// path can hold as they are (in the escaped layout).
	naturalLock = hiddenDir + "/lock"
	tmpDir      = hiddenDir + "/tmp"
	metaDir     = hiddenDir + "/m"
	overflowDir = hiddenDir + "/k"
	// nameMax is the longest file name the usual file systems take, in
	// bytes (NAME_MAX on Linux, macOS and Windows' NTFS in UTF-16 units).
	nameMax = 255
)

// naturalKey reports whether key can be a path as it is: no empty, "." or
// ".." segment, no segment over nameMax bytes, none the platform refuses,
// and a first segment other than the hidden folder. Whether the path is
// free (no file where a directory must be, no directory where the file
// must be) is for the commit to see.
func naturalKey(key string) bool {
	for i := 0; ; i++ {
		seg, rest, more := strings.Cut(key, "/")
		if seg == "" || seg == "." || seg == ".." || len(seg) > nameMax || !platformName(seg) {
			return false
		}
		if i == 0 && strings.EqualFold(seg, hiddenDir) {
			return false
		}
		if !more {
			return true
		}
		key = rest
	}
}

// platformName reports whether the platform takes seg as a file name. On
// Windows that excludes the characters < > : " \ | ? * and control
// characters, a trailing dot or space, and the device names (CON, NUL,
// COM1 and the like, with any extension); elsewhere every name without
// "/" and NUL is taken.
func platformName(seg string) bool {
	if runtime.GOOS != "windows" {
		return true
	}
	for i := 0; i < len(seg); i++ {
		if c := seg[i]; c < 0x20 || strings.IndexByte(`<>:"\|?*`, c) >= 0 {
			return false
		}
	}
	if last := seg[len(seg)-1]; last == '.' || last == ' ' {
		return false
	}
	base, _, _ := strings.Cut(seg, ".")
	switch strings.ToUpper(strings.TrimRight(base, " ")) {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return false
	}
	return true
}

// escapedPath is the path, relative to base, that the escaped layout gives
// key's data file.
func escapedPath(base, key string) string {
	dir, file := keyPath(key)
	return path.Join(base, dir, file)
}
