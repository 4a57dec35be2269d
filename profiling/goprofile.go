package profiling

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// ErrInvalid is a request with bad options: an unknown Go profile name, a
// duration, rate, format or debug level out of range. The package's one
// declaration: GoProfile, ProfileOptions.Validate and the Profiler wrap it.
var ErrInvalid = errors.New("invalid profiling request")

// ErrBusy is a CPU profile asked for while another one is recording: the Go
// runtime records one at a time.
var ErrBusy = errors.New("a cpu profile is already recording")

// Bounds and defaults of the Go profiles recorded over a duration.
const (
	// MaxCPUDuration is the longest CPU profile GoProfile records.
	MaxCPUDuration = 5 * time.Minute
	// DefaultCPUDuration is the length of a CPU profile asked for without a
	// duration.
	DefaultCPUDuration = 30 * time.Second
	// MaxDeltaDuration is the longest window of a block or mutex profile
	// asked for with a duration.
	MaxDeltaDuration = 5 * time.Minute
)

// Content types of what GoProfile returns; GoProfileContentType picks one.
const (
	// ContentTypePprof is a gzipped profile.proto.
	ContentTypePprof = "application/vnd.google.protobuf+gzip"
	// ContentTypeText is the runtime's text form of a profile (debug > 0).
	ContentTypeText = "text/plain; charset=utf-8"
)

// GoProfileCPU is the name of the CPU profile; the others are the runtime's
// snapshot profiles (GoProfileNames).
const GoProfileCPU = "cpu"

// goSnapshotProfiles are the runtime/pprof profiles GoProfile serves.
var goSnapshotProfiles = []string{"goroutine", "heap", "allocs", "block", "mutex", "threadcreate"}

// goDeltaProfiles are the snapshot profiles that also take a duration: the
// ones with a sampling setting (goSampling).
var goDeltaProfiles = []string{"block", "mutex"}

// GoProfileNames lists the names GoProfile accepts: the snapshot profiles,
// then "cpu".
func GoProfileNames() []string { return append(slices.Clone(goSnapshotProfiles), GoProfileCPU) }

// cpuProfile serialises the CPU profiles GoProfile records; the runtime
// allows one at a time (and refuses one started elsewhere, such as
// /debug/pprof/profile, which GoProfile also reports as ErrBusy).
var cpuProfile sync.Mutex

// GoProfile returns a profile of this process. name is one of
// GoProfileNames. A snapshot profile (goroutine, heap, allocs, block,
// mutex, threadcreate) is taken at once and duration must be 0; "cpu"
// records for duration (0 means DefaultCPUDuration, at most
// MaxCPUDuration), ends early with ctx's error when ctx is done, and fails
// with ErrBusy while another CPU profile records.
//
// block and mutex also take a duration (at most MaxDeltaDuration): the
// profile is then the delta over that window, as net/http/pprof's
// ?seconds=N gives, and when the profile's sampling is off (SetGoSampling)
// it is turned on for the window, recording every event, and off again
// after it. A snapshot of either while its sampling is off holds only
// what earlier windows sampled: GoSamplingOff says so.
//
// With debug 0 the result is a gzipped pprof profile, parsed and checked
// with google/pprof's profile package, that carries labels as a comment
// "key=value" each and as string labels on every sample. With debug > 0
// (1 or 2; not for cpu, nor over a duration) it is the runtime's text
// form, returned unchanged (GoProfileContentType says which). A bad name,
// duration or debug level is an error wrapping ErrInvalid. Safe for
// concurrent use.
func GoProfile(ctx context.Context, name string, duration time.Duration, debug int, labels map[string]string) ([]byte, error) {
	if err := checkGoProfile(name, duration, debug); err != nil {
		return nil, err
	}
	var raw []byte
	var err error
	switch {
	case name == GoProfileCPU:
		if duration == 0 {
			duration = DefaultCPUDuration
		}
		raw, err = recordCPU(ctx, duration)
	case duration > 0:
		p, err := recordDelta(ctx, name, duration)
		if err != nil {
			return nil, err
		}
		return encodeLabelled(p, labels)
	default:
		raw, err = snapshot(name, debug)
	}
	if err != nil || debug > 0 {
		return raw, err
	}
	return labelProfile(raw, labels)
}

// GoProfileContentType is the content type of what GoProfile returns at
// the debug level.
func GoProfileContentType(debug int) string {
	if debug > 0 {
		return ContentTypeText
	}
	return ContentTypePprof
}

// checkGoProfile validates GoProfile's arguments.
func checkGoProfile(name string, duration time.Duration, debug int) error {
	switch {
	case name == GoProfileCPU:
		if duration < 0 || duration > MaxCPUDuration {
			return fmt.Errorf("%w: cpu profile duration %v: want 0 (for %v) up to %v", ErrInvalid, duration, DefaultCPUDuration, MaxCPUDuration)
		}
		if debug != 0 {
			return fmt.Errorf("%w: a cpu profile has no text form (debug %d)", ErrInvalid, debug)
		}
	case slices.Contains(goDeltaProfiles, name):
		if duration < 0 || duration > MaxDeltaDuration {
			return fmt.Errorf("%w: %s profile duration %v: want 0 (a snapshot) up to %v", ErrInvalid, name, duration, MaxDeltaDuration)
		}
		if duration > 0 && debug != 0 {
			return fmt.Errorf("%w: a %s profile over a duration has no text form (debug %d)", ErrInvalid, name, debug)
		}
	case slices.Contains(goSnapshotProfiles, name):
		if duration != 0 {
			return fmt.Errorf("%w: the %s profile is a snapshot and takes no duration (got %v)", ErrInvalid, name, duration)
		}
	default:
		return fmt.Errorf("%w: unknown Go profile %.64q: want one of %v", ErrInvalid, name, GoProfileNames())
	}
	if debug < 0 || debug > 2 {
		return fmt.Errorf("%w: debug %d: want 0 (pprof), 1 or 2 (text)", ErrInvalid, debug)
	}
	return nil
}

// snapshot writes the runtime profile name at the debug level.
func snapshot(name string, debug int) ([]byte, error) {
	p := pprof.Lookup(name)
	if p == nil {
		return nil, fmt.Errorf("%w: the runtime has no %s profile", ErrInvalid, name)
	}
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, debug); err != nil {
		return nil, fmt.Errorf("write %s profile: %w", name, err)
	}
	return buf.Bytes(), nil
}

// recordCPU records a CPU profile for d, or until ctx is done.
func recordCPU(ctx context.Context, d time.Duration) ([]byte, error) {
	if !cpuProfile.TryLock() {
		return nil, fmt.Errorf("cpu profile: %w", ErrBusy)
	}
	defer cpuProfile.Unlock()
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		// Another CPU profile, started outside GoProfile, is recording.
		return nil, fmt.Errorf("cpu profile: %w: %w", ErrBusy, err)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		pprof.StopCPUProfile()
		return buf.Bytes(), nil
	case <-ctx.Done():
		pprof.StopCPUProfile()
		return nil, fmt.Errorf("cpu profile: %w", context.Cause(ctx))
	}
}

// recordDelta records the block or mutex profile name over d, or until ctx
// is done: the profile at the window's end less the profile at its start,
// with sampling on for the window.
func recordDelta(ctx context.Context, name string, d time.Duration) (*profile.Profile, error) {
	s := goSampling[name]
	s.open()
	defer s.close()
	p0, err := collect(name)
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s profile: %w", name, context.Cause(ctx))
	}
	p1, err := collect(name)
	if err != nil {
		return nil, err
	}
	end, took := p1.TimeNanos, p1.TimeNanos-p0.TimeNanos
	p0.Scale(-1)
	p, err := profile.Merge([]*profile.Profile{p0, p1})
	if err != nil {
		return nil, fmt.Errorf("%s profile delta: %w", name, err)
	}
	p.TimeNanos, p.DurationNanos = end, took
	return p, nil
}

// collect takes the profile name now, parsed and stamped with the time.
func collect(name string) (*profile.Profile, error) {
	raw, err := snapshot(name, 0)
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixNano()
	p, err := profile.ParseData(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %s profile: %w", name, err)
	}
	p.TimeNanos = now
	return p, nil
}

// labelProfile parses a pprof profile and encodes it labelled
// (encodeLabelled).
func labelProfile(raw []byte, labels map[string]string) ([]byte, error) {
	p, err := profile.ParseData(raw)
	if err != nil {
		return nil, fmt.Errorf("parse profile: %w", err)
	}
	return encodeLabelled(p, labels)
}

// encodeLabelled checks a profile, adds labels to its comments and to
// every sample, and encodes it.
func encodeLabelled(p *profile.Profile, labels map[string]string) ([]byte, error) {
	if err := p.CheckValid(); err != nil {
		return nil, fmt.Errorf("check profile: %w", err)
	}
	keys := slices.Sorted(maps.Keys(labels))
	for _, k := range keys {
		p.Comments = append(p.Comments, k+"="+labels[k])
	}
	if len(keys) > 0 {
		for _, s := range p.Sample {
			if s.Label == nil {
				s.Label = make(map[string][]string, len(keys))
			}
			for _, k := range keys {
				s.Label[k] = []string{labels[k]}
			}
		}
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		return nil, fmt.Errorf("encode profile: %w", err)
	}
	return buf.Bytes(), nil
}
