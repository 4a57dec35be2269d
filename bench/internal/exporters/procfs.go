package exporters

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat.
const clockTick = 100

// cpuTime returns the CPU time pid has used: the sum of its threads'
// sum_exec_runtime (nanosecond precision), or utime+stime from its stat
// when the scheduler statistics cannot be read.
func cpuTime(pid int) (time.Duration, error) {
	dirs, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err == nil && len(dirs) > 0 {
		var sum int64
		ok := true
		for _, p := range dirs {
			b, err := os.ReadFile(p) //nolint:gosec // G304: a /proc path built from a pid
			if err != nil {
				continue // the thread ended between the glob and the read
			}
			f := strings.Fields(string(b))
			if len(f) == 0 {
				ok = false
				break
			}
			ns, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				ok = false
				break
			}
			sum += ns
		}
		if ok {
			return time.Duration(sum), nil
		}
	}
	return statCPU(pid)
}

// statCPU returns utime+stime of pid from /proc/PID/stat.
func statCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a stat line; the
// command name in parentheses may hold spaces, so fields count from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields", len(f))
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat: bad utime or stime")
	}
	return time.Duration(u+s) * time.Second / clockTick, nil
}

// rssBytes returns the resident set size of pid.
func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0, err
	}
	return parseStatmRSS(b, int64(os.Getpagesize()))
}

func parseStatmRSS(b []byte, page int64) (int64, error) {
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("statm: %d fields", len(f))
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("statm: %w", err)
	}
	return n * page, nil
}

// pidsWithToken returns the processes whose command line holds token as one
// of its arguments.
func pidsWithToken(token string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, arg := range bytes.Split(b, []byte{0}) {
			if string(arg) == token {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// totalCPU sums the stat CPU of pids (those that are gone count 0).
func totalCPU(pids []int) time.Duration {
	var sum time.Duration
	for _, p := range pids {
		if d, err := statCPU(p); err == nil {
			sum += d
		}
	}
	return sum
}
