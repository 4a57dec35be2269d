package exporters

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// agentClient speaks the agent's Connect protocol in its JSON form, as curl
// would, with the bearer token the harness gave the agent.
type agentClient struct{ base, token string }

func (a agentClient) call(ctx context.Context, method string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost,
		a.base+"/procagent.v1.ProcAgentService/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		r.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := httpClient.Do(r)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", method, res.StatusCode, bytes.TrimSpace(b))
	}
	if resp == nil {
		return nil
	}
	return json.Unmarshal(b, resp)
}

type agentState struct {
	Status        string `json:"status"`
	FailureReason string `json:"failureReason"`
}

// create creates one actor of typ with params; a FAILED state is an error.
func (a agentClient) create(ctx context.Context, id, typ string, params any) error {
	var st agentState
	req := map[string]any{"id": id, "spec": map[string]any{"actorType": typ, "params": params}}
	if err := a.call(ctx, "CreateOrUpdate", req, &st); err != nil {
		return err
	}
	if st.Status == "STATUS_FAILED" {
		return fmt.Errorf("create %s: failed: %s", id, st.FailureReason)
	}
	return nil
}

func (a agentClient) stop(ctx context.Context, id string) error {
	return a.call(ctx, "Stop", map[string]any{"id": id, "reason": "bench"}, nil)
}

// stopAll asks the agent to stop every actor and exit.
func (a agentClient) stopAll(ctx context.Context) error {
	return a.call(ctx, "StopAll", map[string]any{"reason": "bench done"}, nil)
}
