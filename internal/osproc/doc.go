// Package osproc is the one place that reads /proc: statm (the resident
// and virtual size of a process), the process tree, the command line and
// the Python version a process runs (ReadPythonVersion: the executable's
// name, else the libpython in its maps).
// Every reader takes the procfs root: DefaultRoot in production, a
// testdata directory in tests.
//
// It is built on github.com/prometheus/procfs wherever procfs has the
// reader (the threads of a process, cmdline, comm) and hand-written only
// where it must be: the kept-open, allocation-free StatmReader (statm.go
// says why and statm_bench_test.go measures it) and the children files of
// the process tree, which procfs does not read. Reading is kept apart from
// parsing: parsers take bytes and are table-tested.
//
// It imports the standard library and github.com/prometheus/procfs only.
package osproc
