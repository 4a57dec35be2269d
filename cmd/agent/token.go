package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/procagent/procagent/internal/ctl"
	"github.com/procagent/procagent/procagent"
)

// tokenBytes is the token's entropy: 256 bits, written base64url.
const tokenBytes = 32

// tokenFile returns the token file of cfg: auth_token_file, else the
// default file `agent ctl` looks in too (ctl.DefaultTokenFile).
func tokenFile(cfg procagent.Config) (string, error) {
	if cfg.AuthTokenFile != "" {
		return cfg.AuthTokenFile, nil
	}
	return ctl.DefaultTokenFile(os.Getenv)
}

// loadOrCreateToken reads the token at path, creating the file (mode 0600,
// its directory 0700) with a fresh random token when it does not exist.
// Agents starting together agree on one token: the file appears whole, by
// a hard link, or not at all. A file that group or others can read, or that
// another user owns, is refused. created says whether this call wrote it.
func loadOrCreateToken(path string) (tok string, created bool, err error) {
	tok, err = readOwnToken(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return tok, false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, fmt.Errorf("token directory: %w", err)
	}
	raw := make([]byte, tokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", false, fmt.Errorf("generate token: %w", err)
	}
	tok = base64.RawURLEncoding.EncodeToString(raw)
	tmp, err := os.CreateTemp(dir, ".token-*")
	if err != nil {
		return "", false, fmt.Errorf("write token: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(tok + "\n")
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		return "", false, fmt.Errorf("write token: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) { // another agent won the race: use its token
			tok, err = readOwnToken(path)
			return tok, false, err
		}
		return "", false, fmt.Errorf("write token: %w", err)
	}
	return tok, true, nil
}

// readOwnToken reads a token file this user owns and only this user can
// read (ctl.ReadTokenFile checks the mode).
func readOwnToken(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return "", fmt.Errorf("token file %s is owned by uid %d, not by this user (uid %d)", path, st.Uid, os.Geteuid())
	}
	return ctl.ReadTokenFile(path)
}
