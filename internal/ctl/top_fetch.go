package ctl

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// Bounds on the GetState calls that fill in failure reasons, so that a
// mass failure costs a few calls per refresh: the rest follow in the next
// refreshes, and a reason read once is kept for the actor's generation.
const (
	maxReasonLookups  = 32
	reasonConcurrency = 4
)

// topFrame is one refresh of `agent ctl top`: one agent, or a fleet.
type topFrame struct {
	// Time is when the refresh started.
	Time time.Time `json:"time"`
	// Fleet is true for the view of many agents (--targets).
	Fleet bool `json:"fleet"`
	// Agents holds the one agent of the single view, or every target.
	Agents []topAgent `json:"agents"`
}

// topAgent is one agent as top saw it: the single view's header, or one
// row of the fleet view.
type topAgent struct {
	Addr   string            `json:"addr"`
	Rank   *uint64           `json:"rank,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	// Up is true when the agent answered QueryChild.
	Up bool `json:"up"`
	// Err says why the agent, or part of its data, could not be read;
	// err is the error of an agent that is down.
	Err string `json:"error,omitempty"`
	err error
	// Version is the agent's build version, from its /metrics; "" when
	// unknown (no RPC carries it).
	Version  string `json:"version,omitempty"`
	ProcName string `json:"proc_name,omitempty"`
	Poisoned bool   `json:"poisoned"`
	// FailedActors counts the actors that failed by a supervision event.
	FailedActors uint32 `json:"failed_actors"`
	// ByStatus counts the tracked actors by status name.
	ByStatus   map[string]int `json:"by_status,omitempty"`
	QueueTotal uint64         `json:"queue_depth_total"`
	QueueMax   uint64         `json:"queue_depth_max"`
	// RSS and VM are the agent process's memory; nil when unknown.
	RSS *uint64 `json:"rss_bytes,omitempty"`
	VM  *uint64 `json:"vm_bytes,omitempty"`
	// Actors are the agent's actors (single view only).
	Actors []topActor `json:"actors,omitempty"`
	// QueueOmitted counts live actors whose queue depth the agent left out
	// of /metrics (its actor series cap).
	QueueOmitted uint64 `json:"queue_depth_omitted,omitempty"`
}

// actorCount is the number of tracked actors.
func (a *topAgent) actorCount() int {
	n := 0
	for _, c := range a.ByStatus {
		n += c
	}
	return n
}

// topActor is one actor of the single view.
type topActor struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Type       string `json:"type"`
	Generation uint64 `json:"generation"`
	// Queue is the actor's queue depth; nil when unknown (not live, or
	// /metrics not read).
	Queue *uint64 `json:"queue_depth,omitempty"`
	// Pid, RSS and VM describe a process-backed actor's process.
	Pid int64   `json:"pid,omitempty"`
	RSS *uint64 `json:"rss_bytes,omitempty"`
	VM  *uint64 `json:"vm_bytes,omitempty"`
	// LastFailure is why a failed or timed-out actor ended.
	LastFailure string `json:"last_failure,omitempty"`
}

// agentSource reads one agent for top. A source is used by one goroutine
// at a time: its caches are not locked.
type agentSource struct {
	addr    string
	rank    *uint64
	labels  map[string]string
	client  procagentv1connect.ProcAgentServiceClient
	metrics *metricsReader
	// detail is the single view: every actor, /metrics on every refresh
	// and the failure reasons. Without it (a fleet row) the actors are
	// only counted and /metrics is read once per agent process, for its
	// version.
	detail bool

	version     string // cached for versionProc
	versionProc string
	reasons     map[string]reasonNote
}

// reasonNote is a failure reason read for one generation of an actor.
type reasonNote struct {
	generation uint64
	reason     string
}

// fetch reads the agent: List and QueryChild on the proc, concurrently,
// and /metrics (single view); then the failure reasons not yet known.
func (s *agentSource) fetch(ctx context.Context) topAgent {
	out := topAgent{Addr: s.addr, Rank: s.rank, Labels: s.labels}
	var (
		wg               sync.WaitGroup
		list             *procagentv1.ListResponse
		proc             *procagentv1.QueryChildResponse
		met              *agentMetrics
		listErr, procErr error
		metErr           error
	)
	wg.Go(func() {
		res, err := s.client.List(ctx, connect.NewRequest(&procagentv1.ListRequest{}))
		if err == nil {
			list = res.Msg
		}
		listErr = err
	})
	wg.Go(func() {
		res, err := s.client.QueryChild(ctx, connect.NewRequest(&procagentv1.QueryChildRequest{}))
		if err == nil {
			proc = res.Msg
		}
		procErr = err
	})
	if s.detail && s.metrics != nil {
		wg.Go(func() { met, metErr = s.metrics.read(ctx) })
	}
	wg.Wait()
	if procErr != nil {
		out.Err, out.err = errText(procErr), procErr
		return out
	}
	out.Up = true
	s.fillProc(&out, proc.GetResult().GetProc())
	if !s.detail && s.metrics != nil && s.versionProc != out.ProcName {
		met, metErr = s.metrics.read(ctx)
		if errors.Is(metErr, errNoMetrics) {
			s.version, s.versionProc = "", out.ProcName // asked once: not there
		}
	}
	if met != nil {
		s.version, s.versionProc = met.version, out.ProcName
		out.QueueOmitted = met.queueOmitted
	}
	if s.versionProc == out.ProcName {
		out.Version = s.version
	}
	var errs []string
	if listErr != nil {
		errs = append(errs, errText(listErr))
	} else {
		s.fillActors(ctx, &out, list.GetActors(), met)
	}
	if metErr != nil && (s.detail || !errors.Is(metErr, errNoMetrics)) {
		errs = append(errs, errText(metErr))
	}
	out.Err = strings.Join(errs, "; ")
	return out
}

// fillProc copies the proc's introspection into a.
func (s *agentSource) fillProc(a *topAgent, n *procagentv1.ProcNode) {
	a.ProcName = n.GetProcName()
	a.Poisoned = n.GetIsPoisoned()
	a.FailedActors = n.GetFailedActorCount()
	a.QueueTotal = n.GetQueueDepthTotal()
	a.QueueMax = n.GetQueueDepthMax()
	a.RSS, a.VM = n.ProcessRssBytes, n.ProcessVmBytes
}

// fillActors counts the listed actors by status and, in the single view,
// builds their rows from the list, the scrape and the failure reasons.
func (s *agentSource) fillActors(ctx context.Context, a *topAgent, list []*procagentv1.ListEntry, met *agentMetrics) {
	a.ByStatus = map[string]int{}
	for _, e := range list {
		a.ByStatus[statusName(e.GetStatus())]++
	}
	if !s.detail {
		return
	}
	a.Actors = make([]topActor, 0, len(list))
	for _, e := range list {
		row := topActor{ID: e.GetId(), Status: statusName(e.GetStatus()), Type: e.GetActorType(), Generation: e.GetGeneration()}
		if met != nil {
			if q, ok := met.queue[row.ID]; ok {
				row.Queue = &q
			}
			if p, ok := met.mem[row.ID]; ok && row.ID != "" {
				row.Pid, row.RSS, row.VM = p.pid, &p.rss, &p.vm
			}
		}
		a.Actors = append(a.Actors, row)
	}
	s.fillReasons(ctx, a.Actors)
}

// failedStatus reports whether an actor in status has a failure reason to
// show.
func failedStatus(status string) bool {
	return status == statusName(procagentv1.Status_STATUS_FAILED) || status == statusName(procagentv1.Status_STATUS_TIMEOUT)
}

// fillReasons sets the failure reason of each failed actor: from the
// cache when its generation is unchanged, else by GetState, at most
// maxReasonLookups per refresh, reasonConcurrency at a time.
func (s *agentSource) fillReasons(ctx context.Context, actors []topActor) {
	if s.reasons == nil {
		s.reasons = map[string]reasonNote{}
	}
	seen := make(map[string]bool, len(s.reasons))
	var todo []int
	for i := range actors {
		row := &actors[i]
		if !failedStatus(row.Status) {
			continue
		}
		seen[row.ID] = true
		if n, ok := s.reasons[row.ID]; ok && n.generation == row.Generation {
			row.LastFailure = n.reason
		} else if len(todo) < maxReasonLookups {
			todo = append(todo, i)
		}
	}
	for id := range s.reasons {
		if !seen[id] {
			delete(s.reasons, id)
		}
	}
	notes := make([]*reasonNote, len(todo))
	sem := make(chan struct{}, reasonConcurrency)
	var wg sync.WaitGroup
	for j, i := range todo {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			res, err := s.client.GetState(ctx, connect.NewRequest(&procagentv1.GetStateRequest{Id: actors[i].ID}))
			if err == nil {
				st := res.Msg.GetState()
				notes[j] = &reasonNote{generation: st.GetGeneration(), reason: stateReason(st)}
			}
		})
	}
	wg.Wait()
	for j, i := range todo {
		if n := notes[j]; n != nil && n.generation == actors[i].Generation {
			s.reasons[actors[i].ID] = *n
			actors[i].LastFailure = n.reason
		}
	}
}

// errText is an error as a table cell shows it: "CODE: message".
func errText(err error) string {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Code().String() + ": " + ce.Message()
	}
	return err.Error()
}
