package testenv

import (
	"testing"
	"time"
)

// DefaultWait is how long Eventually waits before it fails the test: long
// enough for a condition that takes milliseconds on an idle machine to hold
// on a loaded one (the packages' tests run in parallel on two cores); a
// passing test never waits it out.
const DefaultWait = 30 * time.Second

// maxPoll is the longest pause between two checks of a condition: the
// pauses start at a millisecond and double up to it, so a condition that
// holds at once is seen at once, and one that takes long (a check that
// runs a process, say) does not keep a core busy meanwhile.
const maxPoll = 50 * time.Millisecond

// Eventually polls cond until it holds, and fails the test when it still
// does not after DefaultWait. what names the condition in the
// failure message. It is the one polling helper of the project's tests: a
// test waits on an observable condition, never on a bare sleep.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	EventuallyWithin(t, DefaultWait, what, cond)
}

// EventuallyWithin is Eventually with its own deadline, for conditions that
// take longer than DefaultWait (a real Prometheus's scrape, a collector's
// export).
func EventuallyWithin(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, maxPoll)
	}
}

// Holds checks that cond stays true for d: a bounded negative check ("no
// republish happens while nothing triggers one").
func Holds(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
		time.Sleep(time.Millisecond)
	}
}
