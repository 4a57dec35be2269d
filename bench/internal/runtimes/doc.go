// Package runtimes measures actor runtimes side by side on the G1–G5
// workloads: procagent's runtime, hollywood, protoactor-go and the raw Go
// they are all built on (goroutines and buffered chans), in one process.
//
// Every contender sends the same message (a pointer to one Msg, so no
// workload allocates per message unless the runtime does), to actors with a
// mailbox of the same capacity where the runtime lets it be set, from the
// same number of producers. Runs are interleaved: each repetition runs every
// workload on every contender in a seeded shuffled order, and the figures
// are medians over the repetitions.
//
// It imports the peers, so it lives in the bench module and never in the
// main one.
package runtimes
