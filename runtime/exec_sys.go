package runtime

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"syscall"
	"unsafe"
)

// maxSignal is the highest signal number Linux has (SIGRTMAX).
const maxSignal = 64

// parseSignal reads a signal from a JSON message: a name ("SIGUSR1",
// "usr1") or a number.
func parseSignal(v any) (syscall.Signal, error) {
	var n int64
	switch v := v.(type) {
	case string:
		name := strings.ToUpper(strings.TrimSpace(v))
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		for s, sn := range signalNames {
			if sn == name {
				return s, nil
			}
		}
		return 0, fmt.Errorf("unknown signal %q", v)
	case float64:
		if v != math.Trunc(v) || v < 1 || v > maxSignal {
			return 0, fmt.Errorf("signal %v out of range 1-%d", v, maxSignal)
		}
		n = int64(v)
	case int:
		n = int64(v)
	default:
		return 0, fmt.Errorf("signal must be a name or a number, got %T", v)
	}
	if err := checkSignal(n); err != nil {
		return 0, err
	}
	return syscall.Signal(n), nil
}

func checkSignal(n int64) error {
	if n < 1 || n > maxSignal {
		return fmt.Errorf("signal %d out of range 1-%d", n, maxSignal)
	}
	return nil
}

// signalGroup sends sig to the process group led by pid; a group that is
// gone already is not an error.
func signalGroup(pid int, sig syscall.Signal) error {
	if pid <= 0 {
		return os.ErrProcessDone
	}
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// waitable reports whether the child pid has exited, without reaping it
// (waitid with WNOWAIT), so its pid and process group stay reserved. With
// block it waits for the exit.
func waitable(pid int, block bool) (bool, error) {
	const pPID = 1      // P_PID
	var info [16]uint64 // siginfo_t: 128 bytes, si_signo first
	opts := syscall.WEXITED | syscall.WNOWAIT
	if !block {
		opts |= syscall.WNOHANG
	}
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info[0])), uintptr(opts), 0, 0)
		switch errno {
		case 0:
			return *(*int32)(unsafe.Pointer(&info[0])) == int32(syscall.SIGCHLD), nil
		case syscall.EINTR:
		default:
			return false, fmt.Errorf("waitid %d: %w", pid, errno)
		}
	}
}
