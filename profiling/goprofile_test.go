package profiling

import (
	"bytes"
	"context"
	"errors"
	"runtime"
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
		{"block delta too long", "block", MaxDeltaDuration + time.Second, 0},
		{"mutex delta negative", "mutex", -time.Second, 0},
		{"block delta as text", "block", time.Second, 1},
		{"allocs delta", "allocs", time.Second, 0},
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

// withSampling sets the Go block and mutex sampling for one test and turns
// it off again when the test ends.
func withSampling(t *testing.T, blockRate, mutexFraction int) {
	t.Helper()
	SetGoSampling(blockRate, mutexFraction)
	t.Cleanup(func() { SetGoSampling(0, 0) })
}

// blockOnChannel keeps one goroutine blocked on a channel, woken every
// millisecond, until stopped.
func blockOnChannel(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				close(ch)
				return
			case <-t.C:
				ch <- struct{}{}
			}
		}
	})
	wg.Go(func() {
		for range ch {
		}
	})
	return func() { cancel(); wg.Wait() }
}

// contendMutex keeps two goroutines contending for one mutex, each holding
// it for a millisecond at a time, until stopped.
func contendMutex(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				time.Sleep(time.Millisecond)
				mu.Unlock()
			}
		})
	}
	return func() { cancel(); wg.Wait() }
}

// hasFunction reports whether a sample of p has a frame in a function
// whose name contains fn.
func hasFunction(p *profile.Profile, fn string) bool {
	for _, s := range p.Sample {
		for _, l := range s.Location {
			for _, ln := range l.Line {
				if strings.Contains(ln.Function.Name, fn) {
					return true
				}
			}
		}
	}
	return false
}

// TestGoProfileDelta: a block or mutex profile over a duration holds what
// happened in it, sampled even though the setting is off, and sampling is
// off again afterwards.
func TestGoProfileDelta(t *testing.T) {
	tests := []struct {
		name    string
		contend func(context.Context) func()
		fn      string
	}{
		{"block", blockOnChannel, "blockOnChannel"},
		{"mutex", contendMutex, "contendMutex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withSampling(t, 0, 0)
			stop := tt.contend(t.Context())
			b, err := GoProfile(t.Context(), tt.name, 300*time.Millisecond, 0, testLabels)
			stop()
			if err != nil {
				t.Fatal(err)
			}
			p := checkLabelled(t, b)
			if !hasFunction(p, tt.fn) {
				t.Errorf("the %s delta holds no sample in %s: %d samples", tt.name, tt.fn, len(p.Sample))
			}
			if p.DurationNanos < (300 * time.Millisecond).Nanoseconds() {
				t.Errorf("the %s delta lasts %v, want at least 300ms", tt.name, time.Duration(p.DurationNanos))
			}
			if !GoSamplingOff(tt.name) {
				t.Errorf("GoSamplingOff(%s) = false after the window", tt.name)
			}
			if got := runtime.SetMutexProfileFraction(-1); got != 0 {
				t.Errorf("mutex profile fraction after the window = %d, want 0", got)
			}
		})
	}
}

// TestGoProfileDeltaKeepsSampling: a window over a profile whose setting is
// on leaves the rate as it was, and overlapping windows keep sampling on
// until the last one ends.
func TestGoProfileDeltaKeepsSampling(t *testing.T) {
	t.Run("setting on", func(t *testing.T) {
		withSampling(t, 5, 3)
		if _, err := GoProfile(t.Context(), "mutex", 50*time.Millisecond, 0, nil); err != nil {
			t.Fatal(err)
		}
		if got := runtime.SetMutexProfileFraction(-1); got != 3 {
			t.Errorf("mutex profile fraction after the window = %d, want the setting's 3", got)
		}
		if GoSamplingOff("mutex") || GoSamplingOff("block") {
			t.Errorf("GoSamplingOff: mutex %v, block %v; want false with the settings on", GoSamplingOff("mutex"), GoSamplingOff("block"))
		}
	})
	t.Run("overlapping windows", func(t *testing.T) {
		withSampling(t, 0, 0)
		ctx, cancel := context.WithCancel(t.Context())
		long := make(chan error, 1)
		go func() {
			_, err := GoProfile(ctx, "mutex", MaxDeltaDuration, 0, nil)
			long <- err
		}()
		// Once the long window samples, a short one opens and closes.
		for runtime.SetMutexProfileFraction(-1) == 0 {
			time.Sleep(time.Millisecond)
		}
		if _, err := GoProfile(t.Context(), "mutex", 10*time.Millisecond, 0, nil); err != nil {
			t.Fatal(err)
		}
		if got := runtime.SetMutexProfileFraction(-1); got == 0 {
			t.Error("the short window turned sampling off under the long one")
		}
		cancel()
		if err := <-long; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled window: %v, want context.Canceled", err)
		}
		if got := runtime.SetMutexProfileFraction(-1); got != 0 {
			t.Errorf("mutex profile fraction after both windows = %d, want 0", got)
		}
	})
}

func TestGoSamplingOff(t *testing.T) {
	withSampling(t, 0, 0)
	for _, name := range []string{"block", "mutex"} {
		if !GoSamplingOff(name) {
			t.Errorf("GoSamplingOff(%s) = false with the setting 0", name)
		}
	}
	for _, name := range []string{"heap", "cpu", "goroutine", "nope"} {
		if GoSamplingOff(name) {
			t.Errorf("GoSamplingOff(%s) = true: it has no sampling setting", name)
		}
	}
	SetGoSampling(1, 1)
	for _, name := range []string{"block", "mutex"} {
		if GoSamplingOff(name) {
			t.Errorf("GoSamplingOff(%s) = true with the setting 1", name)
		}
	}
}
