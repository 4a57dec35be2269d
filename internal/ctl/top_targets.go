package ctl

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/procagent/procagent/mesh"
)

// topInventoryTimeout bounds the read of the fleet's inventory (an http_sd
// URL may not answer).
const topInventoryTimeout = 30 * time.Second

// loadTopTargets reads the fleet's inventory once, at start: a file_sd
// file, an http_sd URL or a comma list (mesh.LoadTargets), sorted by rank.
// An inventory that cannot be read is a usage error: nothing to show.
func loadTopTargets(ctx context.Context, spec string) ([]mesh.Target, error) {
	ctx, cancel := context.WithTimeout(ctx, topInventoryTimeout)
	defer cancel()
	ts, err := mesh.LoadTargets(ctx, spec, nil)
	if err != nil {
		return nil, usagef("--targets: %v", err)
	}
	return ts, nil
}

// targetBase is the base URL of a target's agent: http://addr, or https://
// when its __scheme__ label says so, as Prometheus reads the label.
func targetBase(t mesh.Target) (string, error) {
	scheme := "http"
	if t.Labels[mesh.SchemeLabel] == "https" {
		scheme = "https"
	}
	return baseURL(scheme + "://" + t.Addr)
}

// shownLabels are the labels a fleet row shows: not the meta labels
// (__scheme__ and the like) that steer how the target is read.
func shownLabels(labels map[string]string) map[string]string {
	out := maps.Clone(labels)
	maps.DeleteFunc(out, func(k, _ string) bool { return strings.HasPrefix(k, "__") })
	if len(out) == 0 {
		return nil
	}
	return out
}
