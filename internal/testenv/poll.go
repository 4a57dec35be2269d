package testenv

import (
	"testing"
	"time"
)

// DefaultWait is how long Eventually waits before it fails the test.
const DefaultWait = 10 * time.Second

// Eventually polls cond every millisecond until it holds, and fails the test
// when it still does not after DefaultWait. what names the condition in the
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
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(time.Millisecond)
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
