package profiling

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/procagent/procagent/internal/osproc"
)

// SamplerConfig says where to look for samplers (FindSamplers).
type SamplerConfig struct {
	// PySpyBin is the pyspy_bin setting (PYSPY_BIN): a py-spy binary, or
	// an austin one when its base name starts with "austin".
	PySpyBin string
	// AustinBin is an austin binary to try before the tools directory.
	AustinBin string
	// ToolsDir is a directory holding an austin built by `make deps`
	// (the repository's .tools/bin); "" for none.
	ToolsDir string
}

// FindSamplers resolves every sampler the agent may use, once, in the order
// they are preferred: py-spy (PySpyBin, else py-spy on PATH), then austin
// (AustinBin, then ToolsDir/austin, then austin on PATH), each distinct
// path once, each with its version asked from `--version`. Which one
// samples a target depends on the target's Python (chooseSampler). When
// none is found, the BinaryNotFound lists every candidate tried and why it
// was refused.
func FindSamplers(ctx context.Context, c SamplerConfig) ([]Sampler, *BinaryNotFound) {
	var found []Sampler
	var searched []string
	seen := map[string]bool{}
	add := func(kind, name, label string) {
		path, err := resolveBinary(name)
		if err != nil {
			searched = append(searched, fmt.Sprintf("%s (%v)", label, err))
			return
		}
		if seen[path] {
			return
		}
		seen[path] = true
		if kind == "" {
			kind = kindOf(path)
		}
		found = append(found, Sampler{Kind: kind, Path: path, Version: samplerVersion(ctx, path)})
	}
	if c.PySpyBin != "" {
		add("", c.PySpyBin, "PYSPY_BIN="+c.PySpyBin)
	}
	add(KindPySpy, KindPySpy, "py-spy on PATH")
	if c.AustinBin != "" {
		add(KindAustin, c.AustinBin, "austin_bin="+c.AustinBin)
	}
	if c.ToolsDir != "" {
		add(KindAustin, filepath.Join(c.ToolsDir, KindAustin), "austin in the tools directory")
	}
	add(KindAustin, KindAustin, "austin on PATH")
	if len(found) == 0 {
		return nil, &BinaryNotFound{Searched: searched}
	}
	return found, nil
}

// versionPattern finds a version in a sampler's --version output
// ("py-spy 0.3.14", "austin 3.7.0").
var versionPattern = regexp.MustCompile(`\b(\d+\.\d+(?:\.\d+)?)\b`)

// samplerVersion asks the sampler at path for its version; "" when it
// does not say.
func samplerVersion(ctx context.Context, path string) string {
	out := run(ctx, invocation{path: path, args: []string{"--version"}, timeout: 5 * time.Second})
	if out.startErr != nil || out.timedOut || out.code != 0 {
		return ""
	}
	m := versionPattern.FindSubmatch(append(out.stdout, out.stderr...))
	if m == nil {
		return ""
	}
	return string(m[1])
}

// austinModern is the first austin that reads Python 3.10 and later.
const austinModern = "3.5"

// canRead reports whether s can read a Python of version v (unknown: any
// sampler is tried). py-spy reads every CPython 2.7 – 3.13; austin before
// 3.5 reads Python 3.9 at most.
func (s Sampler) canRead(v osproc.PythonVersion) bool {
	if s.Kind != KindAustin || !v.Known() || !v.AtLeast(3, 10) {
		return true
	}
	return s.Version != "" && versionAtLeast(s.Version, austinModern)
}

// versionAtLeast compares dotted versions numerically.
func versionAtLeast(v, floor string) bool {
	a, b := strings.Split(v, "."), strings.Split(floor, ".")
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x, _ = strconv.Atoi(a[i])
		}
		if i < len(b) {
			y, _ = strconv.Atoi(b[i])
		}
		if x != y {
			return x > y
		}
	}
	return true
}

// chooseSampler picks the first of samplers that can read Python v, or
// says why none can.
func chooseSampler(samplers []Sampler, v osproc.PythonVersion) (Sampler, *Unsupported) {
	for _, s := range samplers {
		if s.canRead(v) {
			return s, nil
		}
	}
	u := &Unsupported{PythonVersion: v.String()}
	for _, s := range samplers {
		u.Samplers = append(u.Samplers, s.Describe())
	}
	u.Hint = fmt.Sprintf("Python %s needs py-spy (pip install py-spy; set pyspy_bin) or austin %s or later "+
		"(`make deps` builds austin 3.7.0 into .tools/bin; or set austin_bin)", v, austinModern)
	return Sampler{}, u
}

// Describe names the sampler with its version and path:
// "austin 3.7.0 (/path/to/austin)".
func (s Sampler) Describe() string {
	if s.Version == "" {
		return s.String()
	}
	return s.Kind + " " + s.Version + " (" + s.Path + ")"
}

// stderrTail is the last lines of a sampler's stderr, at most 5 lines and
// 1 KiB, without terminal escapes.
func stderrTail(stderr []byte) string {
	s := clean(ansi.ReplaceAllString(string(stderr), ""))
	lines := strings.Split(s, "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	s = strings.Join(lines, "\n")
	if len(s) > 1024 {
		s = validUTF8(s[len(s)-1024:])
	}
	return s
}
