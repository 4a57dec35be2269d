package main

import (
	"errors"
	"fmt"

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
		profiling.WithAllowedPids(pids),
		profiling.WithLabels(map[string]string{"proc_id": procName, "agent_version": version}),
	), nil
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
