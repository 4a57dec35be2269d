package osproc

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestPythonVersionFromName(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		want       PythonVersion
	}{
		{"versioned executable", "/usr/bin/python3.11", PythonVersion{3, 11}},
		{"pyenv build", "/opt/pyenv/versions/3.8.18/bin/python3.8", PythonVersion{3, 8}},
		{"free-threaded", "/usr/bin/python3.13t", PythonVersion{3, 13}},
		{"libpython", "/usr/lib/libpython3.9.so.1.0", PythonVersion{3, 9}},
		{"debug libpython", "/x/libpython3.12d.so", PythonVersion{3, 12}},
		{"unversioned", "/usr/bin/python3", PythonVersion{}},
		{"python2", "/usr/bin/python2.7", PythonVersion{2, 7}},
		{"not python", "/usr/bin/sleep", PythonVersion{}},
		{"python-config is no interpreter", "/usr/bin/pythonista", PythonVersion{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pythonVersionFromName(tc.path); got != tc.want {
				t.Errorf("pythonVersionFromName(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

func TestPythonVersionFromMaps(t *testing.T) {
	for _, tc := range []struct {
		name, maps string
		want       PythonVersion
	}{
		{"libpython mapped", "" +
			"55d0c6a00000-55d0c6a01000 r--p 00000000 08:01 1 /usr/bin/python3\n" +
			"7f1c2e000000-7f1c2e100000 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0\n",
			PythonVersion{3, 11}},
		{"anonymous and special lines", "" +
			"7ffd1000-7ffd2000 rw-p 00000000 00:00 0 [stack]\n" +
			"7f00-7f01 rw-p 00000000 00:00 0\n" +
			"7f02-7f03 r-xp 00000000 08:01 3 /x/lib/python3.10/lib-dynload/_json.cpython-310-x86_64-linux-gnu.so\n",
			PythonVersion{}},
		{"statically linked, versioned exe", "55d0-55d1 r-xp 00000000 08:01 1 /opt/py/3.12.1/bin/python3.12\n", PythonVersion{3, 12}},
		{"nothing", "", PythonVersion{}},
		{"short line", "garbage\n", PythonVersion{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pythonVersionFromMaps([]byte(tc.maps)); got != tc.want {
				t.Errorf("pythonVersionFromMaps = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReadPythonVersion(t *testing.T) {
	root := t.TempDir()
	mk := func(pid, exe, maps string) {
		dir := filepath.Join(root, pid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(exe, filepath.Join(dir, "exe")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "maps"), []byte(maps), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("10", "/usr/bin/python3.9", "")
	mk("11", "/usr/bin/python3", "7f-80 r-xp 0 08:01 2 /usr/lib/libpython3.13.so.1.0\n")
	mk("12", "/usr/bin/sleep", "7f-80 r-xp 0 08:01 2 /usr/lib/libc.so.6\n")
	for _, tc := range []struct {
		pid  int
		want string
	}{{10, "3.9"}, {11, "3.13"}, {12, ""}} {
		got, err := ReadPythonVersion(root, tc.pid)
		if err != nil || got.String() != tc.want {
			t.Errorf("ReadPythonVersion(%d) = %q, %v; want %q", tc.pid, got, err, tc.want)
		}
	}
	if _, err := ReadPythonVersion(root, 99); !errors.Is(err, ErrProcessGone) {
		t.Errorf("ReadPythonVersion(gone) error = %v, want ErrProcessGone", err)
	}
	if v, err := ReadPythonVersion(DefaultRoot, os.Getpid()); err != nil || v.Known() {
		t.Errorf("ReadPythonVersion(self) = %v, %v; a Go test is no Python", v, err)
	}
}

func TestPythonVersionAtLeast(t *testing.T) {
	v := PythonVersion{3, 10}
	if !v.AtLeast(3, 10) || !v.AtLeast(3, 9) || v.AtLeast(3, 11) || !v.AtLeast(2, 99) {
		t.Errorf("AtLeast wrong for %v", v)
	}
}
