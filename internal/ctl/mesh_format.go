package ctl

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/procagent/procagent/mesh"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// meshOneLine is how many spans a mesh answer prints on one line; more
// go one per line.
const meshOneLine = 8

// meshJSON is a mesh answer as -o json prints it.
type meshJSON struct {
	Command   string         `json:"command"`
	ID        string         `json:"id,omitempty"`
	MinStatus string         `json:"min_status"`
	Ranks     int            `json:"ranks"`
	Below     int            `json:"below"`
	Overlay   []meshRunJSON  `json:"overlay"`
	Detail    []meshRankJSON `json:"detail"`
}

// meshRunJSON is one run of the merged overlay: the ranks [start, end).
type meshRunJSON struct {
	Start  uint64 `json:"start"`
	End    uint64 `json:"end"`
	Status string `json:"status"`
}

// meshRankJSON is one rank's outcome.
type meshRankJSON struct {
	Rank   uint64 `json:"rank"`
	Addr   string `json:"addr"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// meshListJSON is `mesh list` as -o json prints it.
type meshListJSON struct {
	Ranks      int             `json:"ranks"`
	Actors     []meshActorJSON `json:"actors"`
	Unanswered []meshRankJSON  `json:"unanswered"`
}

// meshActorJSON is one actor id across the mesh.
type meshActorJSON struct {
	ID      string        `json:"id"`
	Types   []string      `json:"types"`
	Overlay []meshRunJSON `json:"overlay"`
}

// printResult prints a cast's merged answer: its spans, or with -o json
// the overlay and every rank; it returns a belowError, saying what, when
// some rank is below minStatus (mesh.Reached).
func (m *meshCall) printResult(id string, minStatus procagentv1.Status, what string, res *mesh.Result) error {
	below := res.Below(minStatus)
	if m.out.json {
		doc := meshJSON{Command: m.sub, ID: id, MinStatus: minStatus.String(), Ranks: len(res.Ranks), Below: len(below),
			Overlay: runsJSON(res.Overlay), Detail: ranksJSON(res.Ranks)}
		if err := m.writeJSON(doc); err != nil {
			return err
		}
	} else if err := m.writeLines(formatSpans(res.Spans())); err != nil {
		return err
	}
	if len(below) > 0 {
		return belowError(len(below), len(res.Ranks), what, below)
	}
	return nil
}

// printList prints `mesh list`: one row per actor id with its ranks'
// statuses, and the ranks that did not answer.
func (m *meshCall) printList(res *mesh.ListResult) error {
	unanswered := res.Unanswered()
	if m.out.json {
		doc := meshListJSON{Ranks: len(res.Ranks), Actors: []meshActorJSON{}, Unanswered: ranksJSON(unanswered)}
		for _, a := range res.Actors {
			doc.Actors = append(doc.Actors, meshActorJSON{ID: a.ID, Types: a.Types, Overlay: runsJSON(a.Overlay)})
		}
		if err := m.writeJSON(doc); err != nil {
			return err
		}
	} else {
		rows := [][]string{{"ID", "TYPE", "RANKS"}}
		for _, a := range res.Actors {
			rows = append(rows, []string{a.ID, strings.Join(a.Types, ","), formatRuns(a.Overlay)})
		}
		if len(res.Actors) == 0 {
			rows = append(rows, []string{"", "", "no actor on any rank that answered"})
		}
		if err := m.out.table(rows...); err != nil {
			return err
		}
		if len(unanswered) > 0 {
			lines := formatSpans(spansOf(unanswered))
			lines[0] = "did not answer: " + lines[0]
			if err := m.writeLines(lines); err != nil {
				return err
			}
		}
	}
	if len(unanswered) > 0 {
		return belowError(len(unanswered), len(res.Ranks), "did not answer", unanswered)
	}
	return nil
}

// belowError is the error of a mesh command some ranks of which did not
// reach what it awaits: exit code 1, and one line saying how many and
// why, by status ("2 of 1000 ranks below RUNNING: 1 FAILED, 1 TIMEOUT").
func belowError(n, total int, what string, ranks []mesh.RankResult) error {
	counts := map[procagentv1.Status]int{}
	for _, r := range ranks {
		counts[r.Status]++
	}
	var parts []string
	for s := procagentv1.Status_STATUS_UNSPECIFIED; int(s) < len(procagentv1.Status_name); s++ {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], statusName(s)))
		}
	}
	return &partialError{msg: fmt.Sprintf("%d of %d ranks %s: %s", n, total, what, strings.Join(parts, ", "))}
}

// formatSpans is a mesh answer for people: "ranks 0–997 RUNNING · 998
// FAILED: exit status 3 · 999 TIMEOUT: no answer within 5s" on one line,
// or one span per line when there are many.
func formatSpans(spans []mesh.Span) []string {
	lines := spanLines(spans)
	if len(spans) <= meshOneLine {
		prefix := "ranks "
		if len(spans) == 1 && spans[0].First == spans[0].Last {
			prefix = "rank "
		}
		return []string{prefix + strings.Join(lines, " · ")}
	}
	out := []string{"ranks:"}
	for _, l := range lines {
		out = append(out, "  "+l)
	}
	return out
}

// spanLines formats each span: "0–997 RUNNING", "998 FAILED: exit status 3".
func spanLines(spans []mesh.Span) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = rankRange(s.First, s.Last) + " " + statusName(s.Status)
		if s.Reason != "" {
			out[i] += ": " + cell(s.Reason)
		}
	}
	return out
}

// spansOf groups ranks into spans, as mesh.Result.Spans does.
func spansOf(ranks []mesh.RankResult) []mesh.Span {
	return (&mesh.Result{Ranks: ranks}).Spans()
}

// formatRuns is an overlay's runs: "0–1 NOT_EXIST · 2 UNKNOWN".
func formatRuns(o mesh.Overlay) string {
	parts := make([]string, len(o))
	for i, r := range o {
		parts[i] = rankRange(r.Start, r.End-1) + " " + statusName(r.Status)
	}
	return strings.Join(parts, " · ")
}

// rankRange is "7" or "0–997" (inclusive).
func rankRange(first, last uint64) string {
	if first == last {
		return formatUint(first)
	}
	return formatUint(first) + "–" + formatUint(last)
}

// runsJSON is an overlay for -o json.
func runsJSON(o mesh.Overlay) []meshRunJSON {
	out := make([]meshRunJSON, len(o))
	for i, r := range o {
		out[i] = meshRunJSON{Start: r.Start, End: r.End, Status: r.Status.String()}
	}
	return out
}

// ranksJSON is ranks' outcomes for -o json.
func ranksJSON(ranks []mesh.RankResult) []meshRankJSON {
	out := make([]meshRankJSON, len(ranks))
	for i, r := range ranks {
		out[i] = meshRankJSON{Rank: r.Rank, Addr: r.Addr, Status: r.Status.String(), Reason: r.Reason}
	}
	return out
}

// writeJSON writes v as indented JSON.
func (m *meshCall) writeJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return m.writeLines([]string{string(b)})
}

// writeLines writes each line to stdout.
func (m *meshCall) writeLines(lines []string) error {
	for _, l := range lines {
		if _, err := fmt.Fprintln(m.out.w, l); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return nil
}
