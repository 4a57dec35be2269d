package mesh

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Target is one agent of a fleet.
type Target struct {
	Rank   uint64            // position in the inventory, or its "rank" label
	Addr   string            // host:port of the agent's listener
	Labels map[string]string // the file_sd labels, without "rank"
}

// Errors of LoadTargets, checked with errors.Is.
var (
	// ErrNoTargets is an inventory that lists no target.
	ErrNoTargets = errors.New("no targets")
	// ErrInvalidTarget is a target that is not host:port, or a rank label
	// that is not a rank.
	ErrInvalidTarget = errors.New("invalid target")
	// ErrDuplicateTarget is a rank, or an address, listed twice.
	ErrDuplicateTarget = errors.New("duplicate target")
	// ErrInventory is an inventory that cannot be read or decoded.
	ErrInventory = errors.New("bad inventory")
)

// RankLabel is the file_sd label that sets a target's rank; without it a
// target's rank is its position in the inventory, counting from 0.
const RankLabel = "rank"

// SchemeLabel is the label Prometheus reads a target's scheme from
// (http or https); the fleet's clients honour it the same way.
const SchemeLabel = "__scheme__"

// maxInventoryBytes bounds a file_sd file or an http_sd answer.
const maxInventoryBytes = 32 << 20

// group is one entry of a file_sd or http_sd document.
type group struct {
	Targets []string          `json:"targets" yaml:"targets"`
	Labels  map[string]string `json:"labels" yaml:"labels"`
}

// LoadTargets reads the inventory spec: a file_sd file (JSON or YAML), an http(s) http_sd URL, or a comma list of host:port.
//
// A spec starting with http:// or https:// is an http_sd URL, fetched
// with client (http.DefaultClient when nil) under ctx; a spec naming an
// existing file is a file_sd file, JSON when its name ends in .json, else
// YAML; anything else is a comma list, "host:port,host:port". The
// targets come back sorted by rank. An empty inventory is ErrNoTargets, a
// bad address or rank label ErrInvalidTarget, a rank or address listed
// twice ErrDuplicateTarget, an unreadable or undecodable inventory
// ErrInventory.
func LoadTargets(ctx context.Context, spec string, client *http.Client) ([]Target, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("targets: %w: the spec is empty", ErrNoTargets)
	}
	var (
		groups []group
		err    error
	)
	switch {
	case strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://"):
		groups, err = fetchHTTPSD(ctx, spec, client)
	default:
		groups, err = readFileSD(spec)
		if errors.Is(err, fs.ErrNotExist) {
			groups, err = parseList(spec)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("targets %s: %w", spec, err)
	}
	ts, err := targetsOf(groups)
	if err != nil {
		return nil, fmt.Errorf("targets %s: %w", spec, err)
	}
	return ts, nil
}

// readFileSD reads a file_sd file; fs.ErrNotExist when there is no file
// of that name (the spec is then a list).
func readFileSD(path string) ([]group, error) {
	f, err := os.Open(path) //nolint:gosec // G304: the path is the user's own inventory
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrInventory, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxInventoryBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInventory, err)
	}
	if len(b) > maxInventoryBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInventory, maxInventoryBytes)
	}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return parseJSON(b)
	}
	return parseYAML(b)
}

// fetchHTTPSD fetches an http_sd document: a GET answered 200 with a JSON
// list of groups, as Prometheus's http_sd reads it.
func fetchHTTPSD(ctx context.Context, url string, client *http.Client) ([]group, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInventory, err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInventory, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: http_sd answered %s", ErrInventory, res.Status)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxInventoryBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInventory, err)
	}
	if len(b) > maxInventoryBytes {
		return nil, fmt.Errorf("%w: http_sd answer larger than %d bytes", ErrInventory, maxInventoryBytes)
	}
	return parseJSON(b)
}

// parseJSON decodes a JSON file_sd / http_sd document.
func parseJSON(b []byte) ([]group, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var gs []group
	if err := dec.Decode(&gs); err != nil {
		return nil, fmt.Errorf("%w: decode JSON: %w", ErrInventory, err)
	}
	return gs, nil
}

// parseYAML decodes a YAML file_sd document.
func parseYAML(b []byte) ([]group, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var gs []group
	if err := dec.Decode(&gs); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: decode YAML: %w", ErrInventory, err)
	}
	return gs, nil
}

// parseList reads "host:port,host:port" as one group without labels.
func parseList(spec string) ([]group, error) {
	var g group
	for i, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, fmt.Errorf("%w: entry %d of the list is empty", ErrInvalidTarget, i)
		}
		if err := checkAddr(s); err != nil {
			return nil, fmt.Errorf("%w: no such file, and %q is not host:port (%w)", ErrInvalidTarget, s, err)
		}
		g.Targets = append(g.Targets, s)
	}
	return []group{g}, nil
}

// targetsOf numbers the groups' targets: a target's rank is its position
// across the groups, or its group's rank label. A group with a rank label
// holds one target, since the label names one rank.
func targetsOf(groups []group) ([]Target, error) {
	var (
		out    []Target
		pos    uint64
		byRank = map[uint64]string{}
		byAddr = map[string]uint64{}
	)
	for gi, g := range groups {
		rankLabel, hasRank := g.Labels[RankLabel]
		if hasRank && len(g.Targets) != 1 {
			return nil, fmt.Errorf("%w: group %d has a %q label and %d targets; a rank label names the rank of one target",
				ErrInvalidTarget, gi, RankLabel, len(g.Targets))
		}
		labels := labelsWithoutRank(g.Labels)
		if s, ok := labels[SchemeLabel]; ok && s != "http" && s != "https" {
			return nil, fmt.Errorf("%w: group %d: %s %q: want http or https", ErrInvalidTarget, gi, SchemeLabel, s)
		}
		for _, addr := range g.Targets {
			rank := pos
			pos++
			if hasRank {
				r, err := parseRank(rankLabel)
				if err != nil {
					return nil, fmt.Errorf("%w: target %s: %w", ErrInvalidTarget, addr, err)
				}
				rank = r
			}
			if err := checkAddr(addr); err != nil {
				return nil, fmt.Errorf("%w: group %d: %q is not host:port: %w", ErrInvalidTarget, gi, addr, err)
			}
			if other, dup := byRank[rank]; dup {
				return nil, fmt.Errorf("%w: rank %d is both %s and %s", ErrDuplicateTarget, rank, other, addr)
			}
			if other, dup := byAddr[addr]; dup {
				return nil, fmt.Errorf("%w: %s is listed as rank %d and rank %d", ErrDuplicateTarget, addr, other, rank)
			}
			byRank[rank], byAddr[addr] = addr, rank
			out = append(out, Target{Rank: rank, Addr: addr, Labels: labels})
		}
	}
	if len(out) == 0 {
		return nil, ErrNoTargets
	}
	slices.SortFunc(out, func(a, b Target) int { return cmp.Compare(a.Rank, b.Rank) })
	return out, nil
}

// labelsWithoutRank copies labels without the rank label; nil for none.
func labelsWithoutRank(labels map[string]string) map[string]string {
	var out map[string]string
	for k, v := range labels {
		if k == RankLabel {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(labels))
		}
		out[k] = v
	}
	return out
}

// parseRank parses a rank label: a decimal rank below the largest uint64
// (whose run [rank, rank+1) cannot exist).
func parseRank(s string) (uint64, error) {
	r, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil || r == math.MaxUint64 {
		return 0, fmt.Errorf("rank label %q is not a rank (0 to %d)", s, uint64(math.MaxUint64-1))
	}
	return r, nil
}

// checkAddr checks that addr is host:port with a host and a port number.
func checkAddr(addr string) error {
	if strings.Contains(addr, "://") || strings.ContainsAny(addr, "/ \t") {
		return errors.New("want host:port, without scheme or path")
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if h == "" {
		return errors.New("no host")
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not 1 to 65535", p)
	}
	return nil
}
