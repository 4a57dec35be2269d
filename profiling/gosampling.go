package profiling

import (
	"runtime"
	"sync"
)

// windowRate is the block profile rate and the mutex profile fraction of a
// window (GoProfile of block or mutex with a duration) while the profile's
// sampling is off: every event, as go test's -blockprofilerate and
// -mutexprofilefraction default to.
const windowRate = 1

// sampling is the sampling of the block or the mutex profile: the rate the
// process asked for, and the windows that need it on while that rate is 0.
type sampling struct {
	set     func(int) // runtime.SetBlockProfileRate or SetMutexProfileFraction
	rate    int       // set by SetGoSampling; 0 is off
	windows int       // open windows
}

// samplingMu guards every sampling: the runtime's rates are per process.
var samplingMu sync.Mutex

// goSampling holds the sampling of each profile of goDeltaProfiles.
var goSampling = map[string]*sampling{
	"block": {set: runtime.SetBlockProfileRate},
	"mutex": {set: func(n int) { runtime.SetMutexProfileFraction(n) }},
}

// SetGoSampling sets the sampling of the Go block and mutex profiles for
// the whole process, as runtime.SetBlockProfileRate and
// runtime.SetMutexProfileFraction do, and remembers it: 0 (or less) is
// off, and then a block or mutex profile samples only over a duration
// asked of GoProfile. The agent sets both once, at start, from its
// block_profile_rate and mutex_profile_fraction settings; a rate set
// directly on the runtime is not seen (the runtime does not report the
// block rate). Safe for concurrent use.
func SetGoSampling(blockRate, mutexFraction int) {
	samplingMu.Lock()
	defer samplingMu.Unlock()
	goSampling["block"].rate = max(blockRate, 0)
	goSampling["block"].apply()
	goSampling["mutex"].rate = max(mutexFraction, 0)
	goSampling["mutex"].apply()
}

// GoSamplingOff reports whether name is the block or the mutex profile
// and its sampling is off (SetGoSampling): a snapshot of it then holds
// only what windows sampled.
func GoSamplingOff(name string) bool {
	s, ok := goSampling[name]
	if !ok {
		return false
	}
	samplingMu.Lock()
	defer samplingMu.Unlock()
	return s.rate == 0
}

// open starts a window: sampling is on until the matching close.
func (s *sampling) open() {
	samplingMu.Lock()
	defer samplingMu.Unlock()
	s.windows++
	s.apply()
}

// close ends a window; the last one to end restores the rate set.
func (s *sampling) close() {
	samplingMu.Lock()
	defer samplingMu.Unlock()
	s.windows--
	s.apply()
}

// apply gives the runtime the rate set, or windowRate while that is off
// and a window is open; samplingMu is held.
func (s *sampling) apply() {
	r := s.rate
	if r == 0 && s.windows > 0 {
		r = windowRate
	}
	s.set(r)
}
