package ctl

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/procagent/procagent/procagent"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/runtime"
)

// ignoreServerFields drops what the server decides alone (times, memory
// sizes, queue history) from proto comparisons.
var ignoreServerFields = cmp.Options{
	protocmp.Transform(),
	protocmp.IgnoreFields(&procagentv1.State{}, "timestamp"),
	protocmp.IgnoreFields(&procagentv1.SupervisionEvent{}, "time"),
	protocmp.IgnoreFields(&procagentv1.ActorNode{}, "created_at", "last_handler_at"),
	protocmp.IgnoreFields(&procagentv1.ProcNode{}, "process_rss_bytes", "process_vm_bytes",
		"queue_depth_high_water_mark", "last_nonzero_queue_age_ms"),
}

// wantState is the state of an actor of type typ created at rank; its
// generation counts the transitions (1 once running).
func wantState(id, typ string, rank uint64, status procagentv1.Status, generation uint64) *procagentv1.State {
	return &procagentv1.State{
		Id: id, Status: status, Generation: generation,
		Actor: &procagentv1.ActorState{ActorType: typ, CreateRank: rank},
	}
}

// wantRunning is the state of a freshly created actor.
func wantRunning(id, typ string, rank uint64) *procagentv1.State {
	return wantState(id, typ, rank, procagentv1.Status_STATUS_RUNNING, 1)
}

// wantOverlay is an overlay of one run [rank, rank+1).
func wantOverlay(rank uint64, status procagentv1.Status) *procagentv1.StatusOverlay {
	return &procagentv1.StatusOverlay{Runs: []*procagentv1.StatusRun{{Start: rank, End: rank + 1, Status: status}}}
}

// wantConfig is what config reports for the default configuration, as a
// response and as table rows.
func wantConfig() (*procagentv1.ConfigDumpResponse, []map[string]string) {
	res := &procagentv1.ConfigDumpResponse{}
	var rows []map[string]string
	for _, e := range procagent.DefaultConfig().Dump() {
		res.Entries = append(res.Entries, &procagentv1.ConfigEntry{
			Name: e.Name, Value: e.Value, DefaultValue: e.Default, Source: e.Source,
			EnvVar: e.EnvVar, Changed: e.Changed, Doc: e.Doc, AltEnvVars: e.AltEnvVars,
		})
		rows = append(rows, map[string]string{
			"NAME": e.Name, "VALUE": cell(e.Value), "DEFAULT": cell(e.Default),
			"SOURCE": e.Source, "ENV": e.EnvVar, "ALT_ENV": cell(strings.Join(e.AltEnvVars, ",")), "CHANGED": yesNo(e.Changed),
		})
	}
	return res, rows
}

// commandCase is one ctl command checked in both output modes. The setup
// commands run first and must succeed. With -o json the output must decode
// into a message equal to json (what ignoreServerFields drops aside). In
// table mode the output must be: table, whose rows must match on the
// columns given (and be as many); or kv, a key/value listing with at least
// those keys; or reply, one line of JSON; or text, exactly.
type commandCase struct {
	name  string
	setup [][]string
	args  []string
	json  proto.Message
	table []map[string]string
	kv    map[string]string
	reply any
	text  string
}

var configResponse, configRows = wantConfig()

var commandCases = []commandCase{
	{
		name:  "create echo",
		args:  []string{"create", "w1", "echo", "--rank", "3"},
		json:  &procagentv1.CreateOrUpdateResponse{State: wantRunning("w1", "echo", 3)},
		table: []map[string]string{{"ID": "w1", "STATUS": "RUNNING", "GENERATION": "1", "TYPE": "echo", "RANK": "3", "PID": "-", "REASON": "-"}},
	},
	{
		name:  "create with params",
		args:  []string{"create", "s1", "sleep", "--params", `{"ms": 5}`},
		json:  &procagentv1.CreateOrUpdateResponse{State: wantRunning("s1", "sleep", 0)},
		table: []map[string]string{{"ID": "s1", "TYPE": "sleep", "RANK": "0"}},
	},
	{
		name:  "get",
		setup: [][]string{{"create", "w1", "echo"}},
		args:  []string{"get", "w1"},
		json:  &procagentv1.GetStateResponse{State: wantRunning("w1", "echo", 0)},
		table: []map[string]string{{"ID": "w1", "STATUS": "RUNNING"}},
	},
	{
		name:  "get unknown id",
		args:  []string{"get", "nobody"},
		json:  &procagentv1.GetStateResponse{State: &procagentv1.State{Id: "nobody", Status: procagentv1.Status_STATUS_NOT_EXIST}},
		table: []map[string]string{{"ID": "nobody", "STATUS": "NOT_EXIST", "GENERATION": "0", "TYPE": "-"}},
	},
	{
		name:  "keepalive",
		setup: [][]string{{"create", "w1", "echo"}},
		args:  []string{"keepalive", "w1", "--ttl", "30s"},
		json:  &procagentv1.KeepaliveGetStateResponse{State: wantRunning("w1", "echo", 0)},
		table: []map[string]string{{"ID": "w1", "STATUS": "RUNNING"}},
	},
	{
		name:  "list",
		setup: [][]string{{"create", "b", "echo"}, {"create", "a", "sleep"}},
		args:  []string{"list"},
		json: &procagentv1.ListResponse{Actors: []*procagentv1.ListEntry{
			{Id: "a", Status: procagentv1.Status_STATUS_RUNNING, ActorType: "sleep", Generation: 1},
			{Id: "b", Status: procagentv1.Status_STATUS_RUNNING, ActorType: "echo", Generation: 1},
		}},
		table: []map[string]string{
			{"ID": "a", "STATUS": "RUNNING", "TYPE": "sleep", "GENERATION": "1"},
			{"ID": "b", "STATUS": "RUNNING", "TYPE": "echo", "GENERATION": "1"},
		},
	},
	{
		name:  "send wait echoes",
		setup: [][]string{{"create", "w1", "echo"}},
		args:  []string{"send", "w1", `{"x": [1, "two", true, null]}`, "--wait"},
		json: &procagentv1.SendResponse{
			State: wantRunning("w1", "echo", 0),
			Reply: mustValue(map[string]any{"x": []any{1, "two", true, nil}}),
		},
		reply: map[string]any{"x": []any{1.0, "two", true, nil}},
	},
	{
		name:  "send without wait",
		setup: [][]string{{"create", "w1", "echo"}},
		args:  []string{"send", "w1", `"hello"`},
		json:  &procagentv1.SendResponse{State: wantRunning("w1", "echo", 0)},
		table: []map[string]string{{"ID": "w1", "STATUS": "RUNNING"}},
	},
	{
		name:  "stop",
		setup: [][]string{{"create", "w1", "echo"}},
		args:  []string{"stop", "w1", "--reason", "bye"},
		json:  &procagentv1.StopResponse{State: wantState("w1", "echo", 0, procagentv1.Status_STATUS_STOPPING, 2)},
		table: []map[string]string{{"ID": "w1", "STATUS": "STOPPING", "GENERATION": "2"}},
	},
	{
		name:  "wait for stopped after stop",
		setup: [][]string{{"create", "w1", "echo"}, {"stop", "w1"}},
		args:  []string{"wait", "w1", "--min", "STOPPED", "--rank", "2"},
		json:  &procagentv1.WaitRankStatusResponse{Overlay: wantOverlay(2, procagentv1.Status_STATUS_STOPPED)},
		table: []map[string]string{{"START": "2", "END": "3", "STATUS": "STOPPED"}},
	},
	{
		name:  "wait lowercase status",
		setup: [][]string{{"create", "w1", "echo"}},
		args:  []string{"wait", "w1", "--min", "running"},
		json:  &procagentv1.WaitRankStatusResponse{Overlay: wantOverlay(0, procagentv1.Status_STATUS_RUNNING)},
		table: []map[string]string{{"START": "0", "END": "1", "STATUS": "RUNNING"}},
	},
	{
		name:  "rank",
		setup: [][]string{{"create", "w1", "echo"}},
		args:  []string{"rank", "w1", "--rank", "4"},
		json:  &procagentv1.GetRankStatusResponse{Overlay: wantOverlay(4, procagentv1.Status_STATUS_RUNNING)},
		table: []map[string]string{{"START": "4", "END": "5", "STATUS": "RUNNING"}},
	},
	{
		name: "rank unknown id",
		args: []string{"rank", "nobody"},
		json: &procagentv1.GetRankStatusResponse{Overlay: &procagentv1.StatusOverlay{}},
		text: "no ranks: the actor is not known\n",
	},
	{
		name:  "query proc",
		setup: [][]string{{"create", "w1", "echo"}},
		args:  []string{"query"},
		json: &procagentv1.QueryChildResponse{Result: &procagentv1.IntrospectResult{Node: &procagentv1.IntrospectResult_Proc{Proc: &procagentv1.ProcNode{
			NodeType: "proc", ProcName: "test", NumLive: 1, Children: []string{"w1"}, StoppedRetentionCap: runtime.DefaultRetention,
		}}}},
		kv: map[string]string{"node_type": "proc", "proc_name": "test", "children": "w1", "num_live": "1", "is_poisoned": "no"},
	},
	{
		name:  "query actor",
		setup: [][]string{{"create", "w1", "echo"}},
		args:  []string{"query", "w1"},
		json: &procagentv1.QueryChildResponse{Result: &procagentv1.IntrospectResult{Node: &procagentv1.IntrospectResult_Actor{Actor: &procagentv1.ActorNode{
			NodeType: "actor", Id: "w1", Status: procagentv1.Status_STATUS_RUNNING, ActorType: "echo",
		}}}},
		kv: map[string]string{"node_type": "actor", "id": "w1", "status": "RUNNING", "actor_type": "echo", "terminated": "no", "pid": "-"},
	},
	{
		name:  "config",
		args:  []string{"config"},
		json:  configResponse,
		table: configRows,
	},
	{
		name:  "stopall",
		setup: [][]string{{"create", "b", "echo"}, {"create", "a", "echo"}},
		args:  []string{"stopall", "--reason", "done"},
		json:  &procagentv1.StopAllResponse{Stopped: []string{"a", "b"}, Stopping: 2},
		kv:    map[string]string{"exit_code": "0", "stopping": "2", "stopped": "a, b"},
	},
}

// mustValue converts v to a google.protobuf.Value.
func mustValue(v any) *structpb.Value {
	pv, err := structpb.NewValue(v)
	if err != nil {
		panic(err)
	}
	return pv
}

// checkJSON checks -o json output against the case.
func (tc *commandCase) checkJSON(t *testing.T, out string) {
	t.Helper()
	got := tc.json.ProtoReflect().New().Interface()
	if err := protojson.Unmarshal([]byte(out), got); err != nil {
		t.Fatalf("decode %T: %v\noutput:\n%s", got, err, out)
	}
	if diff := cmp.Diff(tc.json, got, ignoreServerFields); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

// checkTable checks table output against the case.
func (tc *commandCase) checkTable(t *testing.T, out string) {
	t.Helper()
	switch {
	case tc.text != "":
		if out != tc.text {
			t.Errorf("output %q, want %q", out, tc.text)
		}
	case tc.reply != nil:
		var got any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("reply is not JSON: %v\n%s", err, out)
		}
		if diff := cmp.Diff(tc.reply, got); diff != "" {
			t.Errorf("reply (-want +got):\n%s", diff)
		}
	case tc.kv != nil:
		got := parseKV(out)
		for k, want := range tc.kv {
			if got[k] != want {
				t.Errorf("%s = %q, want %q; output:\n%s", k, got[k], want, out)
			}
		}
	default:
		rows := parseTable(t, out)
		if len(rows) != len(tc.table) {
			t.Fatalf("%d rows, want %d; output:\n%s", len(rows), len(tc.table), out)
		}
		for i, want := range tc.table {
			for col, cell := range want {
				if rows[i][col] != cell {
					t.Errorf("row %d column %s = %q, want %q; output:\n%s", i, col, rows[i][col], cell, out)
				}
			}
		}
	}
}

// TestCommands runs every command against an in-process agent, in both
// output modes and over both protocols.
func TestCommands(t *testing.T) {
	t.Parallel()
	for _, tc := range commandCases {
		for _, protocol := range protocols {
			for _, output := range []string{outputTable, outputJSON} {
				t.Run(tc.name+"/"+protocol+"/"+output, func(t *testing.T) {
					t.Parallel()
					s := newServer(t)
					for _, args := range tc.setup {
						s.mustRun(t, protocol, args...)
					}
					out := s.mustRun(t, protocol, append([]string{"-o", output}, tc.args...)...)
					if output == outputJSON {
						tc.checkJSON(t, out)
					} else {
						tc.checkTable(t, out)
					}
				})
			}
		}
	}
}
