package rpcserver

import (
	"testing"

	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// Every RPC of the service has a row in the access table, and the table
// names no RPC the service lacks.
func TestAccessTableCoversEveryRPC(t *testing.T) {
	t.Parallel()
	svc := procagentv1.File_procagent_v1_procagent_proto.Services().ByName("ProcAgentService")
	methods := svc.Methods()
	seen := map[string]bool{}
	for i := range methods.Len() {
		path := "/" + string(svc.FullName()) + "/" + string(methods.Get(i).Name())
		seen[path] = true
		if _, ok := access[path]; !ok {
			t.Errorf("%s has no row in the access table", path)
		}
	}
	for path := range access {
		if !seen[path] {
			t.Errorf("access table names %s, which the service does not have", path)
		}
	}
}

func TestProcedureAccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		want Access
	}{
		{procagentv1connect.ProcAgentServiceListProcedure, AccessRead},
		{procagentv1connect.ProcAgentServiceStreamStateProcedure, AccessRead},
		{procagentv1connect.ProcAgentServiceCreateOrUpdateProcedure, AccessWrite},
		{procagentv1connect.ProcAgentServiceSendProcedure, AccessWrite},
		{procagentv1connect.ProcAgentServiceGoProfileProcedure, AccessWrite},
		{procagentv1connect.ProcAgentServiceKeepaliveGetStateProcedure, AccessWrite},
		{"/" + grpchealth.HealthV1ServiceName + "/Check", AccessRead},
		{"/" + grpcreflect.ReflectV1ServiceName + "/ServerReflectionInfo", AccessRead},
		{"/" + grpcreflect.ReflectV1AlphaServiceName + "/ServerReflectionInfo", AccessRead},
		{"/" + grpchealth.HealthV1ServiceName + "/", AccessWrite},
		{"/" + grpchealth.HealthV1ServiceName + "/Check/x", AccessWrite},
		{"/procagent.v1.ProcAgentService/Unknown", AccessWrite},
		{"/debug/pprof/profile", AccessWrite},
		{"/", AccessWrite},
	}
	for _, tt := range tests {
		if got := ProcedureAccess(tt.path); got != tt.want {
			t.Errorf("ProcedureAccess(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}
