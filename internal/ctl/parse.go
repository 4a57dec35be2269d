package ctl

import (
	"encoding/json"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// parseValue parses a JSON document into a google.protobuf.Value. Bad
// JSON is a usage error.
func parseValue(s string) (*structpb.Value, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, usagef("payload is not valid JSON: %v", err)
	}
	pv, err := structpb.NewValue(v)
	if err != nil {
		return nil, usagef("payload: %v", err)
	}
	return pv, nil
}

// parseParams parses a JSON object into a google.protobuf.Struct. Bad
// JSON, or JSON that is not an object, is a usage error.
func parseParams(s string) (*structpb.Struct, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, usagef("--params is not a JSON object: %v", err)
	}
	ps, err := structpb.NewStruct(m)
	if err != nil {
		return nil, usagef("--params: %v", err)
	}
	return ps, nil
}

// parseStatus parses a status name: "RUNNING", "running",
// "STATUS_RUNNING" and "not-exist" are all accepted.
func parseStatus(s string) (procagentv1.Status, error) {
	name := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	if !strings.HasPrefix(name, "STATUS_") {
		name = "STATUS_" + name
	}
	v, ok := procagentv1.Status_value[name]
	if !ok || v == int32(procagentv1.Status_STATUS_UNSPECIFIED) {
		return 0, usagef("status %q: want one of %s", s, strings.Join(statusNames(), ", "))
	}
	return procagentv1.Status(v), nil
}

// statusNames lists the statuses a user may name, in status order.
func statusNames() []string {
	var names []string
	for v := procagentv1.Status_STATUS_UNSPECIFIED + 1; ; v++ {
		if _, ok := procagentv1.Status_name[int32(v)]; !ok {
			return names
		}
		names = append(names, statusName(v))
	}
}

// statusName names a status without its STATUS_ prefix.
func statusName(s procagentv1.Status) string {
	return strings.TrimPrefix(s.String(), "STATUS_")
}
