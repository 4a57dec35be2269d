package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// Output formats `agent ctl -o` accepts.
const (
	ctlOutputTable = "table"
	ctlOutputJSON  = "json"
)

// ctlPrinter writes responses as tables for people, or with -o json as
// protojson: one multiline document per response, one compact line per
// streamed message.
type ctlPrinter struct {
	w    io.Writer
	json bool
}

// message writes m as multiline protojson.
func (p *ctlPrinter) message(m proto.Message) error {
	return p.marshal(protojson.MarshalOptions{Multiline: true}, m)
}

func (p *ctlPrinter) marshal(opts protojson.MarshalOptions, m proto.Message) error {
	b, err := opts.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	if _, err := fmt.Fprintf(p.w, "%s\n", b); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// table writes rows, the first being the header, as aligned columns.
func (p *ctlPrinter) table(rows ...[]string) error {
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = ctlCell(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// ctlCell makes s fit a table cell: one line, "-" when empty.
func ctlCell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Join(strings.Fields(s), " ")
}

// ctlStateHeader and ctlStateRow are the columns of a State.
var ctlStateHeader = []string{"ID", "STATUS", "GENERATION", "TYPE", "RANK", "PID", "EXIT", "REASON"}

func ctlStateRow(st *procagentv1.State) []string {
	a := st.GetActor()
	var rank, exit string
	if a != nil {
		rank = ctlUint(a.GetCreateRank())
	}
	if evs := a.GetSupervisionEvents(); len(evs) > 0 {
		exit = ctlExit(evs[len(evs)-1])
	}
	return []string{st.GetId(), ctlStatus(st.GetStatus()), ctlUint(st.GetGeneration()), a.GetActorType(), rank, ctlPid(a.GetPid()), exit, ctlReason(st)}
}

// ctlReason is why the state is what it is: the failure reason, else the
// reason of the newest supervision event.
func ctlReason(st *procagentv1.State) string {
	if r := st.GetFailureReason(); r != "" {
		return r
	}
	if evs := st.GetActor().GetSupervisionEvents(); len(evs) > 0 {
		return evs[len(evs)-1].GetReason()
	}
	return ""
}

// ctlExit is how a process-backed actor ended: its exit code or signal.
func ctlExit(ev *procagentv1.SupervisionEvent) string {
	switch {
	case ev.GetSignal() != "":
		return ev.GetSignal()
	default:
		return ctlOptInt(ev.ExitCode)
	}
}

// state writes the response m that carries st.
func (p *ctlPrinter) state(m proto.Message, st *procagentv1.State) error {
	if p.json {
		return p.message(m)
	}
	return p.table(ctlStateHeader, ctlStateRow(st))
}

// ctlStateWriter writes the states of a stream as they arrive.
type ctlStateWriter struct {
	p      *ctlPrinter
	header bool
}

// stateStream returns a writer for the states of a stream.
func (p *ctlPrinter) stateStream() *ctlStateWriter { return &ctlStateWriter{p: p} }

// write writes one streamed state: a compact JSON line, or a table line
// (generation, status, reason) under a header written before the first.
func (sw *ctlStateWriter) write(m *procagentv1.StreamStateResponse) error {
	if sw.p.json {
		return sw.p.marshal(protojson.MarshalOptions{}, m)
	}
	const format = "%-10s  %-12s  %s\n"
	if !sw.header {
		sw.header = true
		if _, err := fmt.Fprintf(sw.p.w, format, "GENERATION", "STATUS", "REASON"); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	st := m.GetState()
	if _, err := fmt.Fprintf(sw.p.w, format, ctlUint(st.GetGeneration()), ctlStatus(st.GetStatus()), ctlCell(ctlReason(st))); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// stopAll writes a StopAll reply.
func (p *ctlPrinter) stopAll(m *procagentv1.StopAllResponse) error {
	if p.json {
		return p.message(m)
	}
	return p.table(
		[]string{"exit_code", strconv.Itoa(int(m.GetExitCode()))},
		[]string{"stopping", ctlUint(uint64(m.GetStopping()))},
		[]string{"stopped", strings.Join(m.GetStopped(), ", ")},
	)
}

// overlay writes the rank overlay of the response m.
func (p *ctlPrinter) overlay(m proto.Message, o *procagentv1.StatusOverlay) error {
	if p.json {
		return p.message(m)
	}
	if len(o.GetRuns()) == 0 {
		if _, err := fmt.Fprintln(p.w, "no ranks: the actor is not known"); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	}
	rows := [][]string{{"START", "END", "STATUS"}}
	for _, r := range o.GetRuns() {
		rows = append(rows, []string{ctlUint(r.GetStart()), ctlUint(r.GetEnd()), ctlStatus(r.GetStatus())})
	}
	return p.table(rows...)
}

// list writes a List reply.
func (p *ctlPrinter) list(m *procagentv1.ListResponse) error {
	if p.json {
		return p.message(m)
	}
	rows := [][]string{{"ID", "STATUS", "TYPE", "GENERATION"}}
	for _, e := range m.GetActors() {
		rows = append(rows, []string{e.GetId(), ctlStatus(e.GetStatus()), e.GetActorType(), ctlUint(e.GetGeneration())})
	}
	return p.table(rows...)
}

// send writes a Send reply: with wait, the table form is the actor's reply
// as one line of JSON; without, the actor's state.
func (p *ctlPrinter) send(m *procagentv1.SendResponse, wait bool) error {
	if p.json || !wait {
		return p.state(m, m.GetState())
	}
	var v any
	if r := m.GetReply(); r != nil {
		v = r.AsInterface()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode reply: %w", err)
	}
	if _, err := fmt.Fprintf(p.w, "%s\n", b); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// config writes a ConfigDump reply.
func (p *ctlPrinter) config(m *procagentv1.ConfigDumpResponse) error {
	if p.json {
		return p.message(m)
	}
	rows := [][]string{{"NAME", "VALUE", "DEFAULT", "SOURCE", "ENV", "CHANGED"}}
	for _, e := range m.GetEntries() {
		rows = append(rows, []string{e.GetName(), e.GetValue(), e.GetDefaultValue(), e.GetSource(), e.GetEnvVar(), ctlYesNo(e.GetChanged())})
	}
	return p.table(rows...)
}

func ctlUint(n uint64) string { return strconv.FormatUint(n, 10) }

func ctlYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// ctlTime formats a timestamp for people; "" when absent.
func ctlTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().Local().Format("2006-01-02T15:04:05.000Z07:00")
}

// ctlBytes formats a byte count with a binary-unit approximation.
func ctlBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%d (%.1f %ciB)", n, float64(n)/float64(div), "KMGTPE"[exp])
}

// ctlAge formats a duration given in milliseconds.
func ctlAge(ms uint64) string {
	if ms < 1000 {
		return fmt.Sprintf("%dms", ms)
	}
	return fmt.Sprintf("%.1fs", float64(ms)/1000)
}
