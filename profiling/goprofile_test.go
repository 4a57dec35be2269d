package profiling

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// testLabels are the labels every Go profile of these tests carries.
var testLabels = map[string]string{"proc_id": "test-proc", "agent_version": "v0.0.0-test"}

// checkLabelled parses a GoProfile result and checks it carries
// testLabels: as comments always, and on every sample.
func checkLabelled(t *testing.T, b []byte) *profile.Profile {
	t.Helper()
	p, err := profile.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("profile.Parse: %v", err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatalf("CheckValid: %v", err)
	}
	for _, c := range []string{"agent_version=v0.0.0-test", "proc_id=test-proc"} {
		if !slices.Contains(p.Comments, c) {
			t.Errorf("comments %q lack %q", p.Comments, c)
		}
	}
	for i, s := range p.Sample {
		for k, v := range testLabels {
			if got := s.Label[k]; !slices.Equal(got, []string{v}) {
				t.Fatalf("sample %d: label %s = %q, want [%q]", i, k, got, v)
			}
		}
	}
	return p
}

func TestGoProfileSnapshots(t *testing.T) {
	for _, name := range goSnapshotProfiles {
		t.Run(name, func(t *testing.T) {
			b, err := GoProfile(t.Context(), name, 0, 0, testLabels)
			if err != nil {
				t.Fatalf("GoProfile(%s): %v", name, err)
			}
			p := checkLabelled(t, b)
			if name == "goroutine" && len(p.Sample) == 0 {
				t.Error("goroutine profile has no samples")
			}
		})
	}
}

func TestGoProfileDebugIsText(t *testing.T) {
	b, err := GoProfile(t.Context(), "goroutine", 0, 1, testLabels)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "goroutine profile: total") {
		t.Errorf("debug 1 goroutine profile starts %q, want the text form", b[:min(len(b), 40)])
	}
	if got := GoProfileContentType(1); got != ContentTypeText {
		t.Errorf("GoProfileContentType(1) = %q, want %q", got, ContentTypeText)
	}
	if got := GoProfileContentType(0); got != ContentTypePprof {
		t.Errorf("GoProfileContentType(0) = %q, want %q", got, ContentTypePprof)
	}
}

// spin keeps n goroutines busy until ctx is done and waits for them.
func spin(ctx context.Context, n int) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			x := uint64(1)
			for ctx.Err() == nil {
				for range 10000 {
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
			_ = x
		})
	}
	return func() { cancel(); wg.Wait() }
}

func TestGoProfileCPUUnderLoad(t *testing.T) {
	stop := spin(t.Context(), 4)
	b, err := GoProfile(t.Context(), GoProfileCPU, 500*time.Millisecond, 0, testLabels)
	stop()
	if err != nil {
		t.Fatal(err)
	}
	p := checkLabelled(t, b)
	if len(p.Sample) == 0 {
		t.Fatal("cpu profile under load has no samples")
	}
	found := false
	for _, s := range p.Sample {
		for _, l := range s.Location {
			for _, ln := range l.Line {
				if strings.Contains(ln.Function.Name, "spin") {
					found = true
				}
			}
		}
	}
	if !found {
		t.Error("no sample is in the spinning goroutines")
	}
}

func TestGoProfileCPUBusy(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Two long profiles at once: the one that finds the profiler taken
	// returns ErrBusy at once; the other records until cancelled.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := GoProfile(ctx, GoProfileCPU, MaxCPUDuration, 0, nil)
			errs <- err
		}()
	}
	if err := <-errs; !errors.Is(err, ErrBusy) {
		t.Fatalf("one of two concurrent cpu profiles: %v, want ErrBusy", err)
	}
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled cpu profile: %v, want context.Canceled", err)
	}
	// The profiler is free again.
	if _, err := GoProfile(t.Context(), GoProfileCPU, 10*time.Millisecond, 0, nil); err != nil {
		t.Errorf("cpu profile after the cancelled one: %v", err)
	}
}

func TestGoProfileInvalid(t *testing.T) {
	tests := []struct {
		name     string
		profile  string
		duration time.Duration
		debug    int
	}{
		{"unknown name", "stack", 0, 0},
		{"empty name", "", 0, 0},
		{"upper case", "HEAP", 0, 0},
		{"snapshot with duration", "heap", time.Second, 0},
		{"cpu too long", GoProfileCPU, MaxCPUDuration + time.Second, 0},
		{"cpu negative", GoProfileCPU, -time.Second, 0},
		{"cpu as text", GoProfileCPU, time.Second, 1},
		{"negative debug", "heap", 0, -1},
		{"debug too high", "goroutine", 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := GoProfile(t.Context(), tt.profile, tt.duration, tt.debug, nil)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("GoProfile(%q, %v, %d) = %v, want ErrInvalid", tt.profile, tt.duration, tt.debug, err)
			}
		})
	}
}
