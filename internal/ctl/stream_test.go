package ctl

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/procagent/procagent/internal/testenv"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// syncBuffer is a buffer written by one goroutine and read by another.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the buffer contains s.
func (b *syncBuffer) waitFor(t *testing.T, s string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("the output to contain %q", s), func() bool {
		return strings.Contains(b.String(), s)
	})
}

// startStream runs `agent ctl stream` in the background; the returned
// channel yields its exit code.
func (s *server) startStream(ctx context.Context, protocol string, stdout *syncBuffer, args ...string) <-chan int {
	done := make(chan int, 1)
	full := append([]string{"--addr", s.addr, "--protocol", protocol}, args...)
	go func() {
		var stderr bytes.Buffer
		done <- Run(ctx, full, stdout, &stderr, noEnv)
	}()
	return done
}

// waitExit waits for a background ctl run.
func waitExit(t *testing.T, done <-chan int) int {
	t.Helper()
	select {
	case code := <-done:
		return code
	case <-time.After(testenv.DefaultWait):
		t.Fatal("agent ctl stream did not end")
		return -1
	}
}

// TestStreamUntilStopped streams an actor that then gets stopped: the
// stream prints every state and ends after STOPPED with exit code 0.
func TestStreamUntilStopped(t *testing.T) {
	t.Parallel()
	for _, protocol := range protocols {
		for _, output := range []string{outputTable, outputJSON} {
			t.Run(protocol+"/"+output, func(t *testing.T) {
				t.Parallel()
				s := newServer(t)
				s.mustRun(t, protocol, "create", "w1", "echo")
				out := new(syncBuffer)
				done := s.startStream(t.Context(), protocol, out, "-o", output, "stream", "w1", "--rank", "1")
				out.waitFor(t, "RUNNING")
				s.mustRun(t, protocol, "stop", "w1", "--reason", "bye")
				if code := waitExit(t, done); code != exitOK {
					t.Fatalf("exit code %d, want 0", code)
				}
				var statuses []string
				var reasons []string
				for l := range strings.Lines(out.String()) {
					if output == outputJSON {
						var m procagentv1.StreamStateResponse
						if err := protojson.Unmarshal([]byte(l), &m); err != nil {
							t.Fatalf("decode %q: %v", l, err)
						}
						st := m.GetState()
						statuses = append(statuses, statusName(st.GetStatus()))
						reasons = append(reasons, stateReason(st))
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

// TestStreamCancel checks that cancelling the context (Ctrl-C) ends a
// stream cleanly, and that a deadline is an error.
func TestStreamCancel(t *testing.T) {
	t.Parallel()
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			s := newServer(t)
			s.mustRun(t, protocol, "create", "w1", "echo")

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			out := new(syncBuffer)
			done := s.startStream(ctx, protocol, out, "stream", "w1")
			out.waitFor(t, "RUNNING")
			cancel()
			if code := waitExit(t, done); code != exitOK {
				t.Errorf("cancelled stream: exit code %d, want 0", code)
			}

			r := s.run(t.Context(), protocol, "--timeout", "100ms", "stream", "w1")
			if r.code != exitError || !strings.Contains(r.stderr, "deadline_exceeded") {
				t.Errorf("stream past its deadline: exit %d, stderr %q; want 1 and deadline_exceeded", r.code, r.stderr)
			}
		})
	}
}
