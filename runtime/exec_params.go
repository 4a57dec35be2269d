package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Limits and defaults of the exec type.
const (
	// DefaultGracePeriod is how long a stop waits after SIGTERM before SIGKILL.
	DefaultGracePeriod = 5 * time.Second
	// MaxGracePeriod is the longest grace period the params accept.
	MaxGracePeriod = 10 * time.Minute
	// MaxOutputLimit is the largest output_limit the params accept.
	MaxOutputLimit = 64 << 20
	// execWaitDelay bounds the wait for output once the process has exited,
	// in case something that escaped the process group holds the pipe.
	execWaitDelay = time.Second
)

// ExecParams are the JSON params of the exec type.
type ExecParams struct {
	// Argv is the command line, required. Argv[0] is looked up on PATH (or
	// relative to Dir when it has a slash) when the actor is built; no shell
	// is involved.
	Argv []string `json:"argv"`
	// Env adds to, and overrides, the agent's own environment.
	Env map[string]string `json:"env,omitempty"`
	// Dir is the working directory; empty means the agent's.
	Dir string `json:"dir,omitempty"`
	// GracePeriod is how long a stop waits after SIGTERM before SIGKILL:
	// default DefaultGracePeriod, more than 0 and at most MaxGracePeriod.
	GracePeriod *DurationParam `json:"grace_period,omitempty"`
	// OutputLimit is how many bytes of output (stdout and stderr together)
	// are kept, the newest ones: 0 means DefaultOutputLimit, at most
	// MaxOutputLimit.
	OutputLimit int `json:"output_limit,omitempty"`
}

// DurationParam is a duration in JSON params: a Go duration string ("1m30s")
// or a number of seconds (90, 2.5).
type DurationParam time.Duration

// UnmarshalJSON decodes a duration string or a number of seconds.
func (d *DurationParam) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("decode duration: %w", err)
	}
	switch v := v.(type) {
	case string:
		x, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("decode duration: %w", err)
		}
		*d = DurationParam(x)
	case float64:
		if math.Abs(v) > float64(math.MaxInt64/int64(time.Second)) {
			return fmt.Errorf("duration %v seconds out of range", v)
		}
		*d = DurationParam(math.Round(v * float64(time.Second)))
	default:
		return fmt.Errorf("duration must be a string or a number of seconds, got %s", b)
	}
	return nil
}

// MarshalJSON encodes the duration as a Go duration string.
func (d DurationParam) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// NewExec builds an exec actor from ExecParams JSON. It resolves argv[0]
// now, so a missing binary is a params error, and it refuses a worker past
// the process's budget (ErrExecBudget): a failed spawn, which never ran.
// The grace period is capped by ExecConfig.MaxGracePeriod.
func NewExec(params []byte) (Actor, error) {
	var p ExecParams
	if err := DecodeParams(params, &p); err != nil {
		return nil, err
	}
	return newExec(p)
}

func newExec(p ExecParams) (*Exec, error) {
	if len(p.Argv) == 0 || p.Argv[0] == "" {
		return nil, errors.New("argv is required")
	}
	for _, a := range p.Argv {
		if strings.ContainsRune(a, 0) {
			return nil, fmt.Errorf("argv element %q has a NUL byte", a)
		}
	}
	grace := DefaultGracePeriod
	if p.GracePeriod != nil {
		grace = time.Duration(*p.GracePeriod)
		if grace <= 0 || grace > MaxGracePeriod {
			return nil, fmt.Errorf("grace_period must be above 0 and at most %s, got %s", MaxGracePeriod, grace)
		}
	}
	if p.OutputLimit < 0 || p.OutputLimit > MaxOutputLimit {
		return nil, fmt.Errorf("output_limit must be between 0 and %d, got %d", MaxOutputLimit, p.OutputLimit)
	}
	env := make([]string, 0, len(p.Env))
	for k, v := range p.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("bad env entry %q", k)
		}
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	if p.Dir != "" {
		fi, err := os.Stat(p.Dir)
		if err != nil {
			return nil, fmt.Errorf("dir: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("dir %q is not a directory", p.Dir)
		}
	}
	path, err := lookPath(p.Argv[0], p.Dir)
	if err != nil {
		return nil, fmt.Errorf("argv[0]: %w", err)
	}
	cfg := currentExecConfig()
	if !allowed(cfg.Allow, path) {
		return nil, fmt.Errorf("%w: argv[0] %q resolves to %s, which exec_allow does not list", ErrExecNotAllowed, p.Argv[0], path)
	}
	if cfg.MaxGracePeriod > 0 && grace > cfg.MaxGracePeriod {
		grace = cfg.MaxGracePeriod
	}
	if err := execs.checkBudget(0); err != nil {
		return nil, err
	}
	return &Exec{
		shim:  cfg.ShimPath,
		path:  path,
		argv:  slices.Clone(p.Argv),
		env:   env,
		dir:   p.Dir,
		grace: grace,
		out:   newRingBuffer(p.OutputLimit),
	}, nil
}

// lookPath resolves name as the process will see it, to an absolute path.
func lookPath(name, dir string) (string, error) {
	if dir != "" && !filepath.IsAbs(name) && strings.ContainsRune(name, filepath.Separator) {
		name = filepath.Join(dir, name)
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	return filepath.Abs(path)
}

// ErrExecNotAllowed is returned, wrapped, when a worker's program is not in
// ExecConfig.Allow: a failed spawn, which never ran.
var ErrExecNotAllowed = errors.New("program not allowed")

// allowed reports whether the resolved program path, or the path with its
// symlinks followed, matches one of the patterns; no patterns allow all.
func allowed(patterns []string, path string) bool {
	if len(patterns) == 0 {
		return true
	}
	paths := []string{path}
	if resolved, err := filepath.EvalSymlinks(path); err == nil && resolved != path {
		paths = append(paths, resolved)
	}
	for _, pat := range patterns {
		for _, p := range paths {
			if ok, _ := filepath.Match(pat, p); ok {
				return true
			}
		}
	}
	return false
}
