package profiling

import (
	"strings"
	"testing"

	"github.com/procagent/procagent/internal/osproc"
)

func TestChooseSampler(t *testing.T) {
	pyspy := Sampler{Kind: KindPySpy, Path: "/p/py-spy", Version: "0.3.14"}
	oldAustin := Sampler{Kind: KindAustin, Path: "/usr/bin/austin", Version: "1.0.1"}
	newAustin := Sampler{Kind: KindAustin, Path: "/t/austin", Version: "3.7.0"}
	unknown := Sampler{Kind: KindAustin, Path: "/x/austin"}
	py := func(minor int) osproc.PythonVersion { return osproc.PythonVersion{Major: 3, Minor: minor} }
	for _, tc := range []struct {
		name     string
		samplers []Sampler
		python   osproc.PythonVersion
		want     string // path, or "" for Unsupported
	}{
		{"py-spy first", []Sampler{pyspy, newAustin}, py(11), "/p/py-spy"},
		{"old austin reads 3.9", []Sampler{oldAustin, newAustin}, py(9), "/usr/bin/austin"},
		{"old austin skipped for 3.11", []Sampler{oldAustin, newAustin}, py(11), "/t/austin"},
		{"old austin alone, 3.10", []Sampler{oldAustin}, py(10), ""},
		{"unknown austin version, 3.13", []Sampler{unknown}, py(13), ""},
		{"unknown Python: first sampler", []Sampler{oldAustin}, osproc.PythonVersion{}, "/usr/bin/austin"},
		{"new austin reads 3.13", []Sampler{newAustin}, py(13), "/t/austin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, u := chooseSampler(tc.samplers, tc.python)
			if tc.want == "" {
				if u == nil {
					t.Fatalf("chose %v, want unsupported", s)
				}
				if u.PythonVersion != tc.python.String() || len(u.Samplers) != len(tc.samplers) || !strings.Contains(u.Hint, "austin 3.5 or later") {
					t.Errorf("Unsupported = %+v", u)
				}
				return
			}
			if u != nil || s.Path != tc.want {
				t.Errorf("chose %v (%v), want %s", s, u, tc.want)
			}
		})
	}
}

func TestVersionAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v, floor string
		want     bool
	}{
		{"3.7.0", "3.5", true}, {"3.5", "3.5", true}, {"3.4.1", "3.5", false},
		{"1.0.1", "3.5", false}, {"10.0", "3.5", true}, {"3.10", "3.9", true},
	} {
		if got := versionAtLeast(tc.v, tc.floor); got != tc.want {
			t.Errorf("versionAtLeast(%s, %s) = %v", tc.v, tc.floor, got)
		}
	}
}

func TestStderrTail(t *testing.T) {
	in := "\x1b[1mbanner\x1b[0m\n1\n2\n3\n4\n5\n6\n"
	if got, want := stderrTail([]byte(in)), "2\n3\n4\n5\n6"; got != want {
		t.Errorf("stderrTail = %q, want %q", got, want)
	}
	if got := stderrTail([]byte(strings.Repeat("x", 5000))); len(got) != 1024 {
		t.Errorf("stderrTail of 5000 bytes is %d long, want 1024", len(got))
	}
}

func TestSamplerDescribe(t *testing.T) {
	if got := (Sampler{Kind: KindAustin, Path: "/a", Version: "3.7.0"}).Describe(); got != "austin 3.7.0 (/a)" {
		t.Errorf("Describe = %q", got)
	}
	if got := (Sampler{Kind: KindPySpy, Path: "/p"}).Describe(); got != "py-spy (/p)" {
		t.Errorf("Describe = %q", got)
	}
}
