package ctl

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// printer writes responses as tables for people, or with -o json as
// protojson: one multiline document per response, one compact line per
// streamed message.
type printer struct {
	w    io.Writer
	json bool
}

// message writes m as multiline protojson.
func (p *printer) message(m proto.Message) error {
	return p.marshal(protojson.MarshalOptions{Multiline: true}, m)
}

func (p *printer) marshal(opts protojson.MarshalOptions, m proto.Message) error {
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
func (p *printer) table(rows ...[]string) error {
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = cell(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// stateHeader and stateRow are the columns of a State.
var stateHeader = []string{"ID", "STATUS", "GENERATION", "TYPE", "RANK", "PID", "EXIT", "REASON"}

func stateRow(st *procagentv1.State) []string {
	a := st.GetActor()
	var rank, exit string
	if a != nil {
		rank = formatUint(a.GetCreateRank())
	}
	if evs := a.GetSupervisionEvents(); len(evs) > 0 {
		exit = eventExit(evs[len(evs)-1])
	}
	return []string{st.GetId(), statusName(st.GetStatus()), formatUint(st.GetGeneration()), a.GetActorType(), rank, formatPid(a.GetPid()), exit, stateReason(st)}
}

// stateReason is why the state is what it is: the failure reason, else the
// reason of the newest supervision event.
func stateReason(st *procagentv1.State) string {
	if r := st.GetFailureReason(); r != "" {
		return r
	}
	if evs := st.GetActor().GetSupervisionEvents(); len(evs) > 0 {
		return evs[len(evs)-1].GetReason()
	}
	return ""
}

// eventExit is how a process-backed actor ended: its exit code or signal.
func eventExit(ev *procagentv1.SupervisionEvent) string {
	switch {
	case ev.GetSignal() != "":
		return ev.GetSignal()
	default:
		return optInt(ev.ExitCode)
	}
}

// state writes the response m that carries st.
func (p *printer) state(m proto.Message, st *procagentv1.State) error {
	if p.json {
		return p.message(m)
	}
	return p.table(stateHeader, stateRow(st))
}

// stopAll writes a StopAll reply.
func (p *printer) stopAll(m *procagentv1.StopAllResponse) error {
	if p.json {
		return p.message(m)
	}
	return p.table(
		[]string{"exit_code", strconv.Itoa(int(m.GetExitCode()))},
		[]string{"stopping", formatUint(uint64(m.GetStopping()))},
		[]string{"stopped", strings.Join(m.GetStopped(), ", ")},
	)
}

// overlay writes the rank overlay of the response m.
func (p *printer) overlay(m proto.Message, o *procagentv1.StatusOverlay) error {
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
		rows = append(rows, []string{formatUint(r.GetStart()), formatUint(r.GetEnd()), statusName(r.GetStatus())})
	}
	return p.table(rows...)
}

// list writes a List reply.
func (p *printer) list(m *procagentv1.ListResponse) error {
	if p.json {
		return p.message(m)
	}
	rows := [][]string{{"ID", "STATUS", "TYPE", "GENERATION"}}
	for _, e := range m.GetActors() {
		rows = append(rows, []string{e.GetId(), statusName(e.GetStatus()), e.GetActorType(), formatUint(e.GetGeneration())})
	}
	return p.table(rows...)
}

// send writes a Send reply: with wait, the table form is the actor's reply
// as one line of JSON; without, the actor's state.
func (p *printer) send(m *procagentv1.SendResponse, wait bool) error {
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
func (p *printer) config(m *procagentv1.ConfigDumpResponse) error {
	if p.json {
		return p.message(m)
	}
	rows := [][]string{{"NAME", "VALUE", "DEFAULT", "SOURCE", "ENV", "ALT_ENV", "CHANGED"}}
	for _, e := range m.GetEntries() {
		rows = append(rows, []string{e.GetName(), e.GetValue(), e.GetDefaultValue(), e.GetSource(), e.GetEnvVar(),
			strings.Join(e.GetAltEnvVars(), ","), yesNo(e.GetChanged())})
	}
	return p.table(rows...)
}
