package awscred

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// profile is one merged profile of the shared files: the config file's
// section, overridden key by key by the credentials file's.
type profile map[string]string

// sharedFiles holds the profiles of the config and credentials files.
type sharedFiles struct {
	profiles map[string]profile
	// services are the config file's [services NAME] sections, with
	// nested settings as "s3.endpoint_url".
	services map[string]map[string]string
	// ssoSessions are the config file's [sso-session NAME] sections.
	ssoSessions map[string]map[string]string
}

// parseINI reads the sections of an AWS shared file: "[name]" lines open a
// section, "key = value" lines fill it; '#' and ';' start comments.
// Continuation lines (indented) are appended to the previous value.
func parseINI(data string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	var cur map[string]string
	var lastKey, parent string
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: section header without ']'", n)
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			if out[name] == nil {
				out[name] = map[string]string{}
			}
			cur, lastKey = out[name], ""
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("line %d: a setting before any section", n)
		}
		if (raw[0] == ' ' || raw[0] == '\t') && lastKey != "" {
			if k, v, ok := strings.Cut(line, "="); ok && cur[lastKey] == "" || ok && parent == lastKey {
				// A nested setting ("s3 =" then "  endpoint_url = ..."),
				// stored as "s3.endpoint_url".
				parent = lastKey
				cur[parent+"."+strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
				continue
			}
			cur[lastKey] += "\n" + line
			continue
		}
		parent = ""
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: expected key = value", n)
		}
		lastKey = strings.ToLower(strings.TrimSpace(k))
		cur[lastKey] = strings.TrimSpace(v)
	}
	return out, sc.Err()
}

// loadSharedFiles reads the config and credentials files (a missing file
// is empty). In the config file, "[default]" and "[profile NAME]" name
// profiles ("[profile default]" wins over "[default]"); in the credentials
// file, "[NAME]" does, and a "[profile NAME]" section there is ignored, as
// the SDK does. Credentials-file keys win over config-file keys.
//
// A file that group or others may read is still used, with a warning to
// logger (nil: none) naming its path and mode, never its content. An empty
// path means no file.
func loadSharedFiles(configPath, credsPath string, logger *slog.Logger) (*sharedFiles, error) {
	read := func(p string) (map[string]map[string]string, error) {
		if p == "" {
			return nil, nil
		}
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if fi, err := os.Stat(p); err == nil && logger != nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
			logger.Warn("aws shared file is readable by group or others; chmod 600 it", "path", p, "mode", fi.Mode().Perm().String())
		}
		secs, err := parseINI(string(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return secs, nil
	}
	cfg, err := read(configPath)
	if err != nil {
		return nil, err
	}
	creds, err := read(credsPath)
	if err != nil {
		return nil, err
	}
	sf := &sharedFiles{profiles: map[string]profile{}, services: map[string]map[string]string{}, ssoSessions: map[string]map[string]string{}}
	for name, kv := range cfg {
		if n, ok := strings.CutPrefix(name, "services "); ok {
			sf.services[strings.TrimSpace(n)] = kv
		}
		if n, ok := strings.CutPrefix(name, "sso-session "); ok {
			sf.ssoSessions[strings.TrimSpace(n)] = kv
		}
	}
	merge := func(name string, kv map[string]string) {
		p := sf.profiles[name]
		if p == nil {
			p = profile{}
			sf.profiles[name] = p
		}
		for k, v := range kv {
			p[k] = v
		}
	}
	if d, ok := cfg["default"]; ok {
		merge("default", d)
	}
	for name, kv := range cfg {
		if n, ok := strings.CutPrefix(name, "profile "); ok {
			merge(strings.TrimSpace(n), kv)
		}
	}
	for name, kv := range creds {
		if strings.HasPrefix(name, "profile ") {
			continue
		}
		merge(name, kv)
	}
	return sf, nil
}

// defaultPaths returns the shared files' paths from the environment; with
// no HOME (nor USERPROFILE) and no override, "" (no file), never a path
// relative to the working directory.
func defaultPaths(getenv func(string) string) (config, creds string) {
	home := getenv("HOME")
	if home == "" {
		home = getenv("USERPROFILE")
	}
	config = getenv("AWS_CONFIG_FILE")
	if config == "" && home != "" {
		config = filepath.Join(home, ".aws", "config")
	}
	creds = getenv("AWS_SHARED_CREDENTIALS_FILE")
	if creds == "" && home != "" {
		creds = filepath.Join(home, ".aws", "credentials")
	}
	return config, creds
}
