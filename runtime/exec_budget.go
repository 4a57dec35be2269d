package runtime

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// ErrExecBudget is returned, wrapped, when a spawn of an exec actor is
// refused because another worker would cross the process's budget of file
// descriptors or processes. It is a failed spawn, not a worker's failure.
var ErrExecBudget = errors.New("exec budget exhausted")

// ExecConfig is the process-wide configuration of the exec type: file
// descriptors, process groups and the agent's own exit are facts of the
// process, not of one proc.
type ExecConfig struct {
	// ShimPath is the binary run as `ShimPath shim …` (RunShim) in front of
	// each worker; empty runs workers directly, without the shim's
	// guarantees (a locked thread per worker keeps their parent-death
	// signal).
	ShimPath string
	// MaxGracePeriod caps every worker's grace period; 0 leaves
	// MaxGracePeriod as the only cap.
	MaxGracePeriod time.Duration
	// MaxWorkers caps the live exec workers; 0 derives the cap from
	// RLIMIT_NOFILE and RLIMIT_NPROC.
	MaxWorkers int
	// Allow lists the programs a worker may run, as absolute paths or
	// path.Match globs; argv[0] must match one, as resolved or with its
	// symlinks followed. Empty allows any program.
	Allow []string
}

// execFDsPerWorker is what a live worker holds in the agent: the output
// pipe, the control socket and the shim's pidfd, and the kept-open statm
// reader of the memory republish.
const execFDsPerWorker = 4

// execFDReserve is kept free for everything but workers: listeners,
// clients, telemetry, /proc readers, and spawns in flight.
const execFDReserve = 256

// execSpawnSlack is how many workers past the budget the start of a worker
// still accepts: spawns checked at once against the same count. A start
// refused past it fails the actor.
const execSpawnSlack = 32

type execTable struct {
	mu      sync.Mutex
	cfg     ExecConfig
	live    map[*Exec]struct{}
	getrlim func(resource int, r *syscall.Rlimit) error
}

var execs = &execTable{live: make(map[*Exec]struct{}), getrlim: syscall.Getrlimit}

// ConfigureExec sets the process-wide exec configuration; it applies to
// workers started after it. cmd/agent calls it once at start.
func ConfigureExec(cfg ExecConfig) {
	execs.mu.Lock()
	defer execs.mu.Unlock()
	execs.cfg = cfg
}

func currentExecConfig() ExecConfig {
	execs.mu.Lock()
	defer execs.mu.Unlock()
	return execs.cfg
}

// ExecWorkers returns the number of live exec workers and the budget.
func ExecWorkers() (live, limit int) {
	execs.mu.Lock()
	defer execs.mu.Unlock()
	return len(execs.live), execs.limitLocked()
}

// limitLocked is the budget of live workers.
func (t *execTable) limitLocked() int {
	if t.cfg.MaxWorkers > 0 {
		return t.cfg.MaxWorkers
	}
	limit := 1 << 30
	var r syscall.Rlimit
	if t.getrlim(syscall.RLIMIT_NOFILE, &r) == nil && r.Cur < 1<<40 {
		limit = max(0, (int(r.Cur)-execFDReserve)/execFDsPerWorker)
	}
	const rlimitNproc = 6
	if t.getrlim(rlimitNproc, &r) == nil && r.Cur < 1<<40 {
		// A worker is two processes with the shim; the reserve leaves room
		// for the agent's threads and the rest of the user's processes.
		limit = min(limit, max(0, (int(r.Cur)-execFDReserve)/2))
	}
	return limit
}

// checkBudget refuses a new worker once the live ones reach the budget,
// plus slack at start.
func (t *execTable) checkBudget(slack int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, limit := len(t.live), t.limitLocked(); n >= limit+slack {
		return fmt.Errorf("%w: %d live workers, budget %d (from max workers or RLIMIT_NOFILE/RLIMIT_NPROC)", ErrExecBudget, n, limit)
	}
	return nil
}

// add records a starting worker, refused past the budget and its slack.
func (t *execTable) add(e *Exec) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, limit := len(t.live), t.limitLocked(); n >= limit+execSpawnSlack {
		return fmt.Errorf("%w: %d live workers, budget %d", ErrExecBudget, n, limit)
	}
	t.live[e] = struct{}{}
	return nil
}

func (t *execTable) remove(e *Exec) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.live, e)
}

// KillAllExec sends SIGKILL to the process group of every live exec worker
// of the process, at once, and returns how many it signalled: the forced
// exit of the agent. Each worker's end is then reported as usual.
func KillAllExec() int {
	execs.mu.Lock()
	live := make([]*Exec, 0, len(execs.live))
	for e := range execs.live {
		live = append(live, e)
	}
	execs.mu.Unlock()
	n := 0
	for _, e := range live {
		if e.kill() {
			n++
		}
	}
	return n
}
