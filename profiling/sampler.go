package profiling

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Kinds of Python sampler.
const (
	// KindPySpy is py-spy (https://github.com/benfred/py-spy).
	KindPySpy = "py-spy"
	// KindAustin is austin, the fallback sampler.
	KindAustin = "austin"
)

// Sampler is a Python stack sampler binary, resolved once by FindSampler:
// its kind ("py-spy" or "austin") and its absolute path. The zero Sampler
// samples nothing (Dump and Profile return BinaryNotFound).
type Sampler struct {
	Kind string
	Path string
	// Version is what the sampler's --version says ("3.7.0"); "" when
	// unknown (FindSampler does not ask).
	Version string

	// slack overrides the subprocess deadline of a dump (15 s) and the
	// time a profile may run past its duration (15 s); tests shorten it.
	slack time.Duration
}

// defaultSlack is the deadline of a dump and the time a profile may
// overrun its duration before the sampler is killed.
const defaultSlack = 15 * time.Second

func (s Sampler) deadlineSlack() time.Duration {
	if s.slack > 0 {
		return s.slack
	}
	return defaultSlack
}

// String names the sampler and its path.
func (s Sampler) String() string { return s.Kind + " (" + s.Path + ")" }

// FindSampler resolves the sampler to use, once: pyspyBin (the pyspy_bin
// setting, PYSPY_BIN) when set, else py-spy on PATH, else austin on PATH.
// A pyspyBin without a slash is looked up on PATH; one whose base name
// starts with "austin" is taken for austin. A candidate must be an
// executable regular file. When none is, the BinaryNotFound lists every
// candidate tried and why it was refused.
func FindSampler(pyspyBin string) (Sampler, *BinaryNotFound) {
	var searched []string
	if pyspyBin != "" {
		path, err := resolveBinary(pyspyBin)
		if err == nil {
			return Sampler{Kind: kindOf(path), Path: path}, nil
		}
		searched = append(searched, fmt.Sprintf("PYSPY_BIN=%s (%v)", pyspyBin, err))
	}
	for _, name := range []string{KindPySpy, KindAustin} {
		path, err := exec.LookPath(name)
		if err == nil {
			path, err = resolveBinary(path)
		}
		if err == nil {
			return Sampler{Kind: name, Path: path}, nil
		}
		searched = append(searched, name+" on PATH")
	}
	return Sampler{}, &BinaryNotFound{Searched: searched}
}

// kindOf tells a sampler's kind by its base name.
func kindOf(path string) string {
	if strings.HasPrefix(filepath.Base(path), KindAustin) {
		return KindAustin
	}
	return KindPySpy
}

// errNotExecutable is a candidate that is not an executable regular file.
var errNotExecutable = errors.New("not an executable file")

// resolveBinary returns the absolute path of an executable regular file
// named by name (looked up on PATH when it holds no slash).
func resolveBinary(name string) (string, error) {
	path := name
	if !strings.Contains(name, "/") {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", errors.New("not on PATH")
		}
		path = p
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs) //nolint:gosec // the operator's own setting or PATH, resolved once at start
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", errors.New("not found")
	case err != nil:
		return "", err
	case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
		return "", errNotExecutable
	}
	return abs, nil
}

// austinWhere caches, per austin path, whether that austin advertises the
// single-shot -w/--where mode (austin ≥ 3.3; Debian 12's 1.0.1 has none).
var austinWhere sync.Map // path → bool

// hasWhere reports whether the austin at path has -w/--where, asking its
// --help once per path.
func hasWhere(ctx context.Context, path string) bool {
	if v, ok := austinWhere.Load(path); ok {
		where, _ := v.(bool)
		return where
	}
	out := run(ctx, invocation{path: path, args: []string{"--help"}, timeout: 5 * time.Second})
	where := out.startErr == nil && !out.timedOut &&
		(strings.Contains(string(out.stdout), "--where") || strings.Contains(string(out.stderr), "--where"))
	if out.startErr == nil && !out.timedOut {
		austinWhere.Store(path, where)
	}
	return where
}
