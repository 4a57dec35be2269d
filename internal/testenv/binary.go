package testenv

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Environment variables naming the binaries; each wins over the default lookup.
const (
	envPrometheus = "PROCAGENT_PROMETHEUS"
	envOtelcol    = "PROCAGENT_OTELCOL"
)

// otelcolGlob is where scripts/otelcol.sh leaves the collector, relative to the module root.
const otelcolGlob = ".tools/otelcol/*/otelcol-procagent"

// missingBinary fails the test in CI, where every component must be installed, and skips it
// elsewhere, so `go test ./...` on a bare machine still runs everything else.
func missingBinary(t testing.TB, what, fix string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; run `%s`", what, fix)
	}
	t.Skipf("%s; run `%s` to run this test", what, fix)
}

// prometheusBinary returns the prometheus binary: $PROCAGENT_PROMETHEUS, else prometheus on PATH.
func prometheusBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(envPrometheus); p != "" {
		return executable(t, envPrometheus, p)
	}
	p, err := exec.LookPath("prometheus")
	if err != nil {
		missingBinary(t, "prometheus not found on PATH", "make deps")
	}
	return p
}

// otelcolBinary returns the collector: $PROCAGENT_OTELCOL, else the newest build under the
// module root's .tools/otelcol.
func otelcolBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(envOtelcol); p != "" {
		return executable(t, envOtelcol, p)
	}
	root, err := moduleRoot()
	if err != nil {
		missingBinary(t, "OpenTelemetry Collector not found ("+err.Error()+")", "make otelcol")
		return ""
	}
	p := newest(filepath.Join(root, otelcolGlob))
	if p == "" {
		missingBinary(t, "OpenTelemetry Collector not found in "+otelcolGlob, "make otelcol")
	}
	return p
}

// executable fails the test unless p, named by the variable env, is an executable file.
func executable(t testing.TB, env, p string) string {
	t.Helper()
	if !filepath.IsAbs(p) {
		t.Fatalf("$%s: %q is not an absolute path", env, p)
	}
	if _, err := exec.LookPath(p); err != nil {
		t.Fatalf("$%s: %v", env, err)
	}
	return p
}

// moduleRoot walks up from the working directory (the package's, under go test) to go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// newest returns the most recently modified executable file matching pattern, or "".
func newest(pattern string) string {
	matches, _ := filepath.Glob(pattern) // the only error is a malformed pattern
	var best string
	var bestFi fs.FileInfo
	for _, m := range matches {
		fi, err := os.Stat(m)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			continue
		}
		if bestFi == nil || fi.ModTime().After(bestFi.ModTime()) {
			best, bestFi = m, fi
		}
	}
	return best
}
