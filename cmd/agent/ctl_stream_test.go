package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// ctlSyncBuffer is a buffer written by one goroutine and read by another;
// changed is signalled after every write.
type ctlSyncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newCtlSyncBuffer() *ctlSyncBuffer { return &ctlSyncBuffer{changed: make(chan struct{}, 1)} }

func (b *ctlSyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	select {
	case b.changed <- struct{}{}:
	default:
	}
	return n, err
}

func (b *ctlSyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the buffer contains s.
func (b *ctlSyncBuffer) waitFor(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for !strings.Contains(b.String(), s) {
		select {
		case <-b.changed:
		case <-timeout:
			t.Fatalf("output %q never contained %q", b.String(), s)
		}
	}
}

// ctlStartStream runs `agent ctl stream` in the background; the returned
// channel yields its exit code.
func (s *ctlServer) startStream(ctx context.Context, protocol string, stdout *ctlSyncBuffer, args ...string) <-chan int {
	done := make(chan int, 1)
	full := append([]string{"--addr", s.addr, "--protocol", protocol}, args...)
	go func() {
		var stderr bytes.Buffer
		done <- runCtlEnv(ctx, full, stdout, &stderr, ctlNoEnv)
	}()
	return done
}

// ctlExitCode waits for a background ctl run.
func ctlExitCode(t *testing.T, done <-chan int) int {
	t.Helper()
	select {
	case code := <-done:
		return code
	case <-time.After(10 * time.Second):
		t.Fatal("agent ctl stream did not end")
		return -1
	}
}

// TestCtlStreamUntilStopped streams an actor that then gets stopped: the
// stream prints every state and ends after STOPPED with exit code 0.
func TestCtlStreamUntilStopped(t *testing.T) {
	t.Parallel()
	for _, protocol := range ctlProtocols {
		for _, output := range []string{ctlOutputTable, ctlOutputJSON} {
			t.Run(protocol+"/"+output, func(t *testing.T) {
				t.Parallel()
				s := newCtlServer(t, nil)
				s.mustRun(t, protocol, "create", "w1", "echo")
				out := newCtlSyncBuffer()
				done := s.startStream(t.Context(), protocol, out, "-o", output, "stream", "w1", "--rank", "1")
				out.waitFor(t, "RUNNING")
				s.mustRun(t, protocol, "stop", "w1", "--reason", "bye")
				if code := ctlExitCode(t, done); code != ctlExitOK {
					t.Fatalf("exit code %d, want 0", code)
				}
				var statuses []string
				var reasons []string
				for l := range strings.Lines(out.String()) {
					if output == ctlOutputJSON {
						var m procagentv1.StreamStateResponse
						if err := protojson.Unmarshal([]byte(l), &m); err != nil {
							t.Fatalf("decode %q: %v", l, err)
						}
						st := m.GetState()
						statuses = append(statuses, ctlStatus(st.GetStatus()))
						reasons = append(reasons, ctlReason(st))
						continue
					}
					f := strings.Fields(l)
					if f[0] == "GENERATION" {
						continue
					}
					statuses = append(statuses, f[1])
					reasons = append(reasons, strings.Join(f[2:], " "))
				}
				if len(statuses) < 2 || statuses[0] != "RUNNING" || statuses[len(statuses)-1] != "STOPPED" {
					t.Errorf("statuses %v, want RUNNING first and STOPPED last", statuses)
				}
				if got := reasons[len(reasons)-1]; got != "bye" {
					t.Errorf("last reason %q, want bye", got)
				}
			})
		}
	}
}

// TestCtlStreamCancel checks that cancelling the context (Ctrl-C) ends a
// stream cleanly, and that a deadline is an error.
func TestCtlStreamCancel(t *testing.T) {
	t.Parallel()
	for _, protocol := range ctlProtocols {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			s := newCtlServer(t, nil)
			s.mustRun(t, protocol, "create", "w1", "echo")

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			out := newCtlSyncBuffer()
			done := s.startStream(ctx, protocol, out, "stream", "w1")
			out.waitFor(t, "RUNNING")
			cancel()
			if code := ctlExitCode(t, done); code != ctlExitOK {
				t.Errorf("cancelled stream: exit code %d, want 0", code)
			}

			r := s.run(t.Context(), protocol, "--timeout", "100ms", "stream", "w1")
			if r.code != ctlExitError || !strings.Contains(r.stderr, "deadline_exceeded") {
				t.Errorf("stream past its deadline: exit %d, stderr %q; want 1 and deadline_exceeded", r.code, r.stderr)
			}
		})
	}
}
