package osproc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// PythonVersion is the major.minor version of a Python interpreter.
type PythonVersion struct{ Major, Minor int }

// String is "3.11"; "" for the zero PythonVersion (unknown).
func (v PythonVersion) String() string {
	if v.Major == 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// Known reports whether the version was found.
func (v PythonVersion) Known() bool { return v.Major > 0 }

// AtLeast reports whether v is major.minor or later.
func (v PythonVersion) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// pythonName matches the version in an interpreter's or libpython's file
// name: python3.11, python3.13t, libpython3.9.so.1.0, libpython3.12d.so.
var pythonName = regexp.MustCompile(`^(?:lib)?python(\d)\.(\d{1,2})[a-z]*(?:$|[.-])`)

// pythonVersionFromName reads the version in a file name or path (its
// base name): "/usr/bin/python3.11" → 3.11; the zero version for a name
// that holds none ("python3", "python").
func pythonVersionFromName(path string) PythonVersion {
	m := pythonName.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return PythonVersion{}
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return PythonVersion{Major: major, Minor: minor}
}

// pythonVersionFromMaps reads the version of the libpython (or python
// executable) mapped in a /proc/PID/maps text: the first mapped file whose
// name carries a version. The zero version when none does.
func pythonVersionFromMaps(maps []byte) PythonVersion {
	sc := bufio.NewScanner(bytes.NewReader(maps))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		fields := bytes.Fields(sc.Bytes())
		if len(fields) < 6 {
			continue
		}
		path := string(fields[5])
		if path == "" || path[0] != '/' {
			continue
		}
		if v := pythonVersionFromName(path); v.Known() {
			return v
		}
	}
	return PythonVersion{}
}

// ReadPythonVersion returns the Python version of process pid under the
// procfs at root: from the name of its executable (/proc/PID/exe), else
// from a libpython or python executable mapped in /proc/PID/maps. The zero
// version with a nil error says the process runs no Python this can name
// (not Python, or a "python3" without a version in any mapped name). The
// error wraps ErrProcessGone when the process does not exist.
func ReadPythonVersion(root string, pid int) (PythonVersion, error) {
	dir, err := os.OpenRoot(filepath.Join(root, strconv.Itoa(pid)))
	if err != nil {
		return PythonVersion{}, fmt.Errorf("python version pid %d: %w", pid, goneErr(err))
	}
	defer func() { _ = dir.Close() }()
	if exe, err := dir.Readlink("exe"); err == nil {
		if v := pythonVersionFromName(exe); v.Known() {
			return v, nil
		}
	}
	maps, err := dir.ReadFile("maps")
	if err != nil {
		return PythonVersion{}, fmt.Errorf("python version pid %d: %w", pid, goneErr(err))
	}
	return pythonVersionFromMaps(maps), nil
}
