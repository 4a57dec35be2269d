package ctl

import (
	"cmp"
	"slices"
	"strings"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// topSortKey is one way to order top's rows. Each view has its own keys;
// a key's natural order (desc) puts what needs a look first: problems, deep
// queues, big processes.
type topSortKey struct {
	name string
	desc bool
}

// The sort keys of the single view and of the fleet view, in the order the
// s key steps through them; the first is the default.
var (
	actorSortKeys = []topSortKey{
		{name: "status"}, {name: "id"}, {name: "type"}, {name: "queue", desc: true},
		{name: "rss", desc: true}, {name: "vm", desc: true}, {name: "gen", desc: true}, {name: "pid"},
	}
	fleetSortKeys = []topSortKey{
		{name: "status"}, {name: "rank"}, {name: "addr"}, {name: "version"},
		{name: "actors", desc: true}, {name: "failed", desc: true}, {name: "queue", desc: true}, {name: "rss", desc: true},
	}
)

// sortKeyIndex finds a key by name among keys.
func sortKeyIndex(keys []topSortKey, name string) (int, bool) {
	for i, k := range keys {
		if k.name == name {
			return i, true
		}
	}
	return 0, false
}

// sortKeyNames lists the names of keys, for usage messages.
func sortKeyNames(keys []topSortKey) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

// statusRank orders actor statuses for the status key: failures first,
// then what is changing, then the running, then the ended.
func statusRank(status string) int {
	order := []procagentv1.Status{
		procagentv1.Status_STATUS_FAILED, procagentv1.Status_STATUS_TIMEOUT, procagentv1.Status_STATUS_UNKNOWN,
		procagentv1.Status_STATUS_STOPPING, procagentv1.Status_STATUS_INITIALIZING, procagentv1.Status_STATUS_RUNNING,
		procagentv1.Status_STATUS_STOPPED, procagentv1.Status_STATUS_NOT_EXIST,
	}
	for i, s := range order {
		if statusName(s) == status {
			return i
		}
	}
	return len(order)
}

// optCmp compares optional counts; an unknown one sorts as below any
// known one.
func optCmp(a, b *uint64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

// sortActors orders actors by key (reversed when reverse), ties by id.
func sortActors(actors []topActor, key topSortKey, reverse bool) {
	by := func(a, b *topActor) int {
		switch key.name {
		case "status":
			return cmp.Compare(statusRank(a.Status), statusRank(b.Status))
		case "type":
			return cmp.Compare(a.Type, b.Type)
		case "queue":
			return optCmp(a.Queue, b.Queue)
		case "rss":
			return optCmp(a.RSS, b.RSS)
		case "vm":
			return optCmp(a.VM, b.VM)
		case "gen":
			return cmp.Compare(a.Generation, b.Generation)
		case "pid":
			return cmp.Compare(a.Pid, b.Pid)
		}
		return 0
	}
	slices.SortStableFunc(actors, func(a, b topActor) int {
		if c := directed(by(&a, &b), key.desc != reverse); c != 0 {
			return c
		}
		return directed(cmp.Compare(a.ID, b.ID), reverse && key.name == "id")
	})
}

// agentHealth orders agents for the status key: down, then poisoned, then
// those with failed actors, then the healthy.
func agentHealth(a *topAgent) int {
	switch {
	case !a.Up:
		return 0
	case a.Poisoned:
		return 1
	case a.ByStatus[statusName(procagentv1.Status_STATUS_FAILED)] > 0:
		return 2
	}
	return 3
}

// rankCmp compares optional ranks ascending; an agent without one sorts
// last.
func rankCmp(a, b *uint64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return cmp.Compare(*a, *b)
}

// sortAgents orders fleet rows by key (reversed when reverse), ties by
// rank then address.
func sortAgents(agents []topAgent, key topSortKey, reverse bool) {
	by := func(a, b *topAgent) int {
		switch key.name {
		case "status":
			return cmp.Compare(agentHealth(a), agentHealth(b))
		case "rank":
			return rankCmp(a.Rank, b.Rank)
		case "addr":
			return cmp.Compare(a.Addr, b.Addr)
		case "version":
			return cmp.Compare(a.Version, b.Version)
		case "actors":
			return cmp.Compare(a.actorCount(), b.actorCount())
		case "failed":
			return cmp.Compare(a.ByStatus[statusName(procagentv1.Status_STATUS_FAILED)], b.ByStatus[statusName(procagentv1.Status_STATUS_FAILED)])
		case "queue":
			return cmp.Compare(a.QueueTotal, b.QueueTotal)
		case "rss":
			return optCmp(a.RSS, b.RSS)
		}
		return 0
	}
	slices.SortStableFunc(agents, func(a, b topAgent) int {
		if c := directed(by(&a, &b), key.desc != reverse); c != 0 {
			return c
		}
		if c := rankCmp(a.Rank, b.Rank); c != 0 {
			return c
		}
		return cmp.Compare(a.Addr, b.Addr)
	})
}

// directed returns c, negated when desc.
func directed(c int, desc bool) int {
	if desc {
		return -c
	}
	return c
}
