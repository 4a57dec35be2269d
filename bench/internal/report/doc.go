// Package report turns the results of the peer benchmarks into
// BENCHMARKS.md and its PNG charts. It only reads numbers; it measures
// nothing.
package report
