package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/procagent/procagent/internal/ctl"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// localToken reads the token of this user's agents, as `agent ctl` does.
func localToken(t *testing.T) string {
	t.Helper()
	path, err := ctl.DefaultTokenFile(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ctl.ReadTokenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// rpcRaw calls an RPC with the Connect protocol's JSON form, as curl
// would, with token as bearer (none when empty), and returns the HTTP
// status and body.
func (a *servedAgent) rpcRaw(t *testing.T, rpc string, body io.Reader, token string, header http.Header) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url+"/procagent.v1.ProcAgentService/"+rpc, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	maps.Copy(req.Header, header)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, string(b)
}

// client is a Connect client of the agent with the local token.
func (a *servedAgent) client(t *testing.T) procagentv1connect.ProcAgentServiceClient {
	t.Helper()
	return procagentv1connect.NewProcAgentServiceClient(&http.Client{Transport: bearerTransport{localToken(t)}}, a.url)
}

// bearerTransport adds the token to every request, streams included.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(req)
}

// publicBinary is the agent binary copied where another user may run it.
func publicBinary(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "procagent-public")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	b, err := os.ReadFile(buildAgent(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "agent")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// asNobody runs a command as the user nobody with a bare environment, and
// returns its output and exit code.
func asNobody(t *testing.T, args ...string) (string, int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run commands as nobody")
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		t.Skip("needs runuser")
	}
	argv := append([]string{"-u", "nobody", "--", "env", "-i", "PATH=/usr/bin:/bin", "HOME=/nonexistent"}, args...)
	cmd := exec.CommandContext(t.Context(), "runuser", argv...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		code = cmd.ProcessState.ExitCode()
	}
	return string(out), code
}

// Another user of the machine can read the agent's state but cannot
// create, send, stop or profile; the agent's own user needs no step.
func TestE2ESecurityOtherUser(t *testing.T) {
	bin := publicBinary(t)
	a := startAgent(t)
	if out, code := a.ctl(t, "create", "w", "echo"); code != 0 {
		t.Fatalf("owner's ctl create = %d %s", code, out)
	}
	nobodyCtl := func(args ...string) (string, int) {
		return asNobody(t, append([]string{bin, "ctl", "--addr", a.addr}, args...)...)
	}
	for _, read := range [][]string{{"list"}, {"get", "w"}, {"query"}, {"config"}} {
		if out, code := nobodyCtl(read...); code != 0 {
			t.Errorf("nobody: ctl %v = %d %s, want a read to work", read, code, out)
		}
	}
	for _, write := range [][]string{
		{"create", "x", "exec", "--params", `{"argv":["id"]}`},
		{"send", "w", `{"output":true}`, "--wait"},
		{"stop", "w"},
		{"goprofile", "heap", "--out", "/dev/null"},
		{"pyspy", "dump", "w"},
		{"stopall"},
	} {
		out, code := nobodyCtl(write...)
		if code != 1 || !strings.Contains(out, "unauthenticated") {
			t.Errorf("nobody: ctl %v = %d %s, want unauthenticated", write, code, out)
		}
	}
	curl := func(args ...string) string {
		out, _ := asNobody(t, append([]string{"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"}, args...)...)
		return out
	}
	createExec := `{"id":"x","spec":{"actorType":"exec","params":{"argv":["sh","-c","id"]}}}`
	if got := curl("-H", "Content-Type: application/json", "-d", createExec, a.url+"/procagent.v1.ProcAgentService/CreateOrUpdate"); got != "401" {
		t.Errorf("nobody: curl CreateOrUpdate exec = %s, want 401", got)
	}
	if got := curl(a.url + "/debug/pprof/heap"); got != "401" {
		t.Errorf("nobody: curl /debug/pprof/heap = %s, want 401", got)
	}
	if got := curl(a.url + "/metrics"); got != "200" {
		t.Errorf("nobody: curl /metrics = %s, want 200", got)
	}
	if code, body := a.rpcRaw(t, "Send", strings.NewReader(`{"id":"w","payload":1}`), "wrong", nil); code != http.StatusUnauthorized {
		t.Errorf("a wrong token: HTTP %d %s", code, body)
	}
	if code, body := a.rpcRaw(t, "GetState", strings.NewReader(`{"id":"x"}`), "", nil); code != http.StatusOK || !strings.Contains(body, "NOT_EXIST") {
		t.Errorf("x was created by nobody: %d %s", code, body)
	}
	path, err := ctl.DefaultTokenFile(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if out, code := a.ctl(t, "config"); code != 0 || !strings.Contains(out, path) {
		t.Errorf("ConfigDump does not show the token file %s: %d %s", path, code, out)
	}
}

// peakRSS is the agent's peak resident set (VmHWM) in bytes.
func (a *servedAgent) peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", a.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// gzipBomb is a gzip stream of n zero bytes.
func gzipBomb(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for range n >> 20 {
		if _, err := zw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// maxPeakRSS is the bound the agent's peak RSS stays under while it
// refuses the bombs below (it idles around 20 MiB).
const maxPeakRSS = 128 << 20

// A 1 GiB gzip bomb, a 50 MB body and a 50 MB Send, each sent with the
// token, are refused with ResourceExhausted or InvalidArgument, and the
// agent's peak RSS stays under maxPeakRSS.
func TestE2ESecurityGzipBomb(t *testing.T) {
	a := startAgent(t)
	tok := localToken(t)
	bomb := gzipBomb(t, 1<<30)
	t.Logf("gzip bomb: %d bytes inflating to 1 GiB; peak RSS before %d MiB", len(bomb), a.peakRSS(t)>>20)
	gz := http.Header{"Content-Encoding": {"gzip"}}
	for _, rpc := range []string{"CreateOrUpdate", "Send"} {
		code, body := a.rpcRaw(t, rpc, bytes.NewReader(bomb), tok, gz)
		if code != http.StatusTooManyRequests || !strings.Contains(body, "resource_exhausted") {
			t.Errorf("gzip bomb to %s: HTTP %d %.200s, want 429 resource_exhausted", rpc, code, body)
		}
	}
	plain := bytes.Repeat([]byte(" "), 50<<20)
	if code, body := a.rpcRaw(t, "CreateOrUpdate", bytes.NewReader(plain), tok, nil); code != http.StatusTooManyRequests {
		t.Errorf("a 50 MB body: HTTP %d %.200s, want 429", code, body)
	}
	a.postJSON(t, "CreateOrUpdate", `{"id":"w","spec":{"actorType":"echo"}}`)
	send := `{"id":"w","payload":"` + strings.Repeat("x", 3<<20) + `"}`
	if code, body := a.rpcRaw(t, "Send", strings.NewReader(send), tok, nil); code != http.StatusBadRequest || !strings.Contains(body, "max_send_bytes") {
		t.Errorf("a 3 MB Send: HTTP %d %.200s, want 400 naming max_send_bytes", code, body)
	}
	peak := a.peakRSS(t)
	t.Logf("peak RSS after the bombs: %d MiB", peak>>20)
	if peak > maxPeakRSS {
		t.Errorf("peak RSS %d MiB, want under %d MiB", peak>>20, maxPeakRSS>>20)
	}
	if st := a.postJSON(t, "GetState", `{"id":"w"}`); stateStatus(st) != "STATUS_RUNNING" {
		t.Errorf("the agent stopped serving: %v", st)
	}
}

// 600 connections that send nothing and 600 unauthenticated keep-alive
// requests, against an agent limited to 256 file descriptors, do not
// starve a client that has the token: the refused connections are closed
// after their 401 and the silent ones after http_read_header_timeout.
func TestE2ESecurityConnectionFlood(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("needs prlimit")
	}
	a := startAgent(t, "--http-read-header-timeout", "1s")
	pid := strconv.Itoa(a.cmd.Process.Pid)
	if out, err := exec.CommandContext(t.Context(), "prlimit", "--pid", pid, "--nofile=256:256").CombinedOutput(); err != nil {
		t.Fatalf("prlimit: %v %s", err, out)
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	d := net.Dialer{Timeout: 5 * time.Second}
	for range 600 {
		c, err := d.DialContext(t.Context(), "tcp", a.addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conns = append(conns, c)
	}
	closedAfter401 := 0
	for range 600 {
		c, err := d.DialContext(t.Context(), "tcp", a.addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conns = append(conns, c)
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(c, "POST /procagent.v1.ProcAgentService/Send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			continue // not accepted yet: the fd limit
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unauthenticated Send: HTTP %d", res.StatusCode)
		}
		if _, err := br.ReadByte(); err == io.EOF {
			closedAfter401++
		}
	}
	t.Logf("%d of 600 unauthenticated connections answered 401 and were closed", closedAfter401)
	if closedAfter401 == 0 {
		t.Error("no connection was closed after its 401")
	}
	start := time.Now()
	c := a.client(t)
	var err error
	for time.Since(start) < 20*time.Second {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, err = c.CreateOrUpdate(ctx, connect.NewRequest(&procagentv1.CreateOrUpdateRequest{Id: "w", Spec: &procagentv1.ActorSpec{ActorType: "echo"}}))
		cancel()
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("the authenticated client starved: %v", err)
	}
	t.Logf("the authenticated create succeeded %v after the flood", time.Since(start).Round(time.Millisecond))
}

// Every limit answers with its code through the real binary, and the
// agent serves on.
func TestE2ESecurityLimits(t *testing.T) {
	a := startAgent(t, "--max-send-bytes", "1024", "--max-params-bytes", "256", "--max-reason-bytes", "16",
		"--max-live-actors", "2", "--max-streams", "1", "--max-waiters", "1", "--max-profiles", "1",
		"--max-profile-duration", "2s", "--pprof", "on")
	c := a.client(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	want := func(what string, err error, code connect.Code) {
		t.Helper()
		if connect.CodeOf(err) != code {
			t.Errorf("%s: %v, want %v", what, err, code)
		}
	}
	createReq := func(id string, params *structpb.Struct) *connect.Request[procagentv1.CreateOrUpdateRequest] {
		return connect.NewRequest(&procagentv1.CreateOrUpdateRequest{Id: id, Spec: &procagentv1.ActorSpec{ActorType: "echo", Params: params}})
	}
	big := strings.Repeat("x", 2048)
	params, _ := structpb.NewStruct(map[string]any{"p": big})
	_, err := c.CreateOrUpdate(ctx, createReq("p", params))
	want("params over max_params_bytes", err, connect.CodeInvalidArgument)
	for _, id := range []string{"a", "b"} {
		if _, err := c.CreateOrUpdate(ctx, createReq(id, nil)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.CreateOrUpdate(ctx, createReq("c", nil))
	want("a third live actor", err, connect.CodeResourceExhausted)
	_, err = c.Send(ctx, connect.NewRequest(&procagentv1.SendRequest{Id: "a", Payload: structpb.NewStringValue(big)}))
	want("a Send over max_send_bytes", err, connect.CodeInvalidArgument)
	_, err = c.Stop(ctx, connect.NewRequest(&procagentv1.StopRequest{Id: "a", Reason: big}))
	want("a reason over max_reason_bytes", err, connect.CodeInvalidArgument)

	s1, err := c.StreamState(ctx, connect.NewRequest(&procagentv1.StreamStateRequest{Id: "a"}))
	if err != nil || !s1.Receive() {
		t.Fatalf("first stream: %v", err)
	}
	s2, err := c.StreamState(ctx, connect.NewRequest(&procagentv1.StreamStateRequest{Id: "a"}))
	if err == nil {
		s2.Receive()
		err = s2.Err()
	}
	want("a second stream", err, connect.CodeResourceExhausted)
	_ = s1.Close()

	waiting := make(chan error, 2)
	wctx, wcancel := context.WithCancel(ctx)
	for range 2 {
		go func() {
			_, err := c.WaitRankStatus(wctx, connect.NewRequest(&procagentv1.WaitRankStatusRequest{Id: "a", MinStatus: procagentv1.Status_STATUS_STOPPED}))
			waiting <- err
		}()
	}
	want("one of two waiters", <-waiting, connect.CodeResourceExhausted)
	wcancel()
	want("the waiter cancelled", <-waiting, connect.CodeCanceled)

	_, err = c.GoProfile(ctx, connect.NewRequest(&procagentv1.GoProfileRequest{Name: "cpu", Duration: durationpb.New(time.Hour)}))
	want("an hour-long GoProfile", err, connect.CodeInvalidArgument)
	tok := localToken(t)
	get := func(path string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.url+path, http.NoBody)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		return res.StatusCode
	}
	if code := get("/debug/pprof/profile?seconds=3600"); code != http.StatusBadRequest {
		t.Errorf("/debug/pprof/profile?seconds=3600: HTTP %d, want 400", code)
	}
	// Two 2 s profiles at once: one records, the other is refused.
	profiling := make(chan int, 2)
	for range 2 {
		go func() { profiling <- get("/debug/pprof/profile?seconds=2") }()
	}
	codes := []int{<-profiling, <-profiling}
	slices.Sort(codes)
	if codes[0] != http.StatusOK || codes[1] != http.StatusTooManyRequests {
		t.Errorf("two profiles at once: HTTP %v, want 200 and 429", codes)
	}
	if _, err := c.List(ctx, connect.NewRequest(&procagentv1.ListRequest{})); err != nil {
		t.Fatalf("the agent stopped serving: %v", err)
	}
}

// auth=none warns and serves everyone; it refuses a listener beyond
// loopback; a token file that others can read is refused.
func TestE2ESecurityAuthSettings(t *testing.T) {
	a := startAgent(t, "--auth", "none")
	if code, body := a.rpcRaw(t, "CreateOrUpdate", strings.NewReader(`{"id":"w","spec":{"actorType":"echo"}}`), "", nil); code != http.StatusOK {
		t.Errorf("auth=none: create without a token = %d %s", code, body)
	}
	if !strings.Contains(a.stderr.String(), "authentication is off") {
		t.Errorf("auth=none logged no warning:\n%s", a.stderr)
	}
	run := func(args ...string) (string, int) {
		cmd := exec.CommandContext(t.Context(), buildAgent(t), append([]string{"serve"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err == nil {
			return string(out), 0
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := run("--auth", "none", "--addr", "0.0.0.0:0"); code != 2 || !strings.Contains(out, "auth=none") {
		t.Errorf("auth=none beyond loopback = %d %s, want a refusal", code, out)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := run("--addr", "127.0.0.1:0", "--auth-token-file", file); code != 2 || !strings.Contains(out, "chmod 600") {
		t.Errorf("a world-readable token file = %d %s, want a refusal", code, out)
	}
}

// A body sent too slowly fails after http_read_timeout, and an idle
// keep-alive connection is closed after http_idle_timeout.
func TestE2ESecuritySlowClients(t *testing.T) {
	a := startAgent(t, "--http-read-timeout", "1s", "--http-idle-timeout", "1s")
	tok := localToken(t)
	d := net.Dialer{Timeout: 5 * time.Second}
	closedWithin := func(c net.Conn, br *bufio.Reader) time.Duration {
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, err := br.ReadByte(); err != nil {
				return time.Since(start)
			}
		}
	}

	slow, err := d.DialContext(t.Context(), "tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /procagent.v1.ProcAgentService/List HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", tok)
	if took := closedWithin(slow, bufio.NewReader(slow)); took > 5*time.Second {
		t.Errorf("a body that never arrives held the connection for %v", took)
	}

	idle, err := d.DialContext(t.Context(), "tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "POST /procagent.v1.ProcAgentService/List HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	br := bufio.NewReader(idle)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("List: HTTP %d, close %v", res.StatusCode, res.Close)
	}
	if took := closedWithin(idle, br); took > 5*time.Second {
		t.Errorf("an idle keep-alive connection stayed open %v", took)
	}
}

// exec_allow: a program outside the list is a FAILED spawn that says why
// and poisons nothing; a listed one runs; ConfigDump shows the list.
func TestE2ESecurityExecAllow(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep on PATH")
	}
	allow := "/nonexistent/*," + sleep
	a := startAgent(t, "--exec-allow", allow)
	got := a.postJSON(t, "CreateOrUpdate", `{"id":"sh","spec":{"actorType":"exec","params":{"argv":["sh","-c","id"]}}}`)
	st, _ := got["state"].(map[string]any)
	if st["status"] != "STATUS_FAILED" || !strings.Contains(fmt.Sprint(st["failureReason"]), "exec_allow") {
		t.Errorf("create of sh under exec_allow = %v, want FAILED naming exec_allow", got)
	}
	got = a.postJSON(t, "CreateOrUpdate", `{"id":"nap","spec":{"actorType":"exec","params":{"argv":["sleep","30"]}}}`)
	if s := stateStatus(got); s == "STATUS_FAILED" {
		t.Fatalf("create of a listed program after a refused one = %v: the refusal poisoned the proc", got)
	}
	out := a.mustCtl(t, "config")
	if !strings.Contains(out, "exec_allow") || !strings.Contains(out, sleep) {
		t.Errorf("config dump does not show exec_allow=%s:\n%s", allow, out)
	}
	a.mustCtl(t, "stopall")
}
