package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/profiling"
)

// newProfiler builds the profiler behind the profiling RPCs: py-spy (or austin) for
// the agent's own process-backed actors and the configured allow-list, Go
// profiles of the agent labelled with its proc id and version.
func newProfiler(agent *procagent.Agent, cfg procagent.Config, procName string) (*profiling.Profiler, error) {
	pids, err := cfg.AllowedPids()
	if err != nil {
		return nil, fmt.Errorf("profile_allow_pids: %w", err)
	}
	return profiling.NewProfiler(actorResolver{agent},
		profiling.WithPySpyBin(cfg.PySpyBin),
		profiling.WithAustinBin(cfg.AustinBin),
		profiling.WithToolsDir(toolsDir()),
		profiling.WithAllowedPids(pids),
		profiling.WithLabels(map[string]string{"proc_id": procName, "agent_version": version}),
	), nil
}

// toolsDir is where `make deps` puts the austin it builds: .tools/bin in
// the directory of the agent binary or the one above it (`make build`
// writes bin/agent in the repository), else under the working directory;
// "" when none exists.
func toolsDir() string {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		dirs = append(dirs, filepath.Join(dir, ".tools", "bin"), filepath.Join(filepath.Dir(dir), ".tools", "bin"))
	}
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, filepath.Join(wd, ".tools", "bin"))
	}
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return ""
}

// actorResolver maps the agent's errors onto the ones profiling declares.
type actorResolver struct{ agent *procagent.Agent }

func (r actorResolver) ActorPid(id string) (int, error) {
	pid, err := r.agent.ActorPid(id)
	switch {
	case err == nil:
		return pid, nil
	case errors.Is(err, procagent.ErrInvalidID):
		return 0, fmt.Errorf("%w: %w", profiling.ErrInvalid, err)
	case errors.Is(err, procagent.ErrNotFound):
		return 0, fmt.Errorf("%w: %w", profiling.ErrUnknownActor, err)
	default:
		return 0, fmt.Errorf("%w: %w", profiling.ErrNotAProcess, err)
	}
}
