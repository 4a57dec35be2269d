package rpcserver

import (
	"strings"

	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// Access is what a procedure does to the agent: it only reads state, or
// it changes something or reads a process (profiles).
type Access int

// Access levels; the zero value is the safe one.
const (
	AccessWrite Access = iota // changes state or reads a process: needs the caller authenticated
	AccessRead                // reads the agent's state only
)

// access is the one table of what each RPC of ProcAgentService does;
// access_test.go checks that it names every method of the service.
var access = map[string]Access{
	procagentv1connect.ProcAgentServiceCreateOrUpdateProcedure:    AccessWrite,
	procagentv1connect.ProcAgentServiceStopProcedure:              AccessWrite,
	procagentv1connect.ProcAgentServiceStopAllProcedure:           AccessWrite,
	procagentv1connect.ProcAgentServiceKeepaliveGetStateProcedure: AccessWrite, // moves the actor's expiry
	procagentv1connect.ProcAgentServiceSendProcedure:              AccessWrite,
	procagentv1connect.ProcAgentServicePySpyDumpProcedure:         AccessWrite, // reads a process
	procagentv1connect.ProcAgentServicePySpyProfileProcedure:      AccessWrite,
	procagentv1connect.ProcAgentServiceGoProfileProcedure:         AccessWrite,
	procagentv1connect.ProcAgentServiceGetStateProcedure:          AccessRead,
	procagentv1connect.ProcAgentServiceStreamStateProcedure:       AccessRead,
	procagentv1connect.ProcAgentServiceGetRankStatusProcedure:     AccessRead,
	procagentv1connect.ProcAgentServiceWaitRankStatusProcedure:    AccessRead,
	procagentv1connect.ProcAgentServiceListProcedure:              AccessRead,
	procagentv1connect.ProcAgentServiceQueryChildProcedure:        AccessRead,
	procagentv1connect.ProcAgentServiceConfigDumpProcedure:        AccessRead,
}

// readServices are the services Mount serves besides ProcAgentService,
// every method of which only reads: gRPC health and reflection.
var readServices = []string{
	grpchealth.HealthV1ServiceName,
	grpcreflect.ReflectV1ServiceName,
	grpcreflect.ReflectV1AlphaServiceName,
}

// ProcedureAccess returns what the procedure at an HTTP path
// ("/procagent.v1.ProcAgentService/List") does. A path Mount does not
// serve is AccessWrite: unknown means guarded.
func ProcedureAccess(path string) Access {
	if a, ok := access[path]; ok {
		return a
	}
	for _, svc := range readServices {
		if rest, ok := strings.CutPrefix(path, "/"+svc+"/"); ok && rest != "" && !strings.Contains(rest, "/") {
			return AccessRead
		}
	}
	return AccessWrite
}
