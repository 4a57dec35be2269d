package ctl

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// FuzzArgs parses any command line as each command would, up to the call
// itself (which needs an agent): flags, positionals, their counts and the
// global flags. `make fuzz` runs it for a few seconds, with the seeds below
// and those under testdata/fuzz. Arguments are separated by NUL.
func FuzzArgs(f *testing.F) {
	for _, s := range []string{
		"w1\x00echo\x00--rank\x003", "w1\x00--wait\x00--\x00-5", "-o\x00json\x00w1", "--timeout\x00-1s",
		"w1\x00{\"a\":1}\x00--wait", "--protocol\x00grpc\x00worker", "-o\x00out.pb.gz\x00heap", "--min\x00STOPPED\x00w1",
		"--params\x00{\"ms\": 10}", "--addr\x00ftp://x", "--token\x00abc", "--duration\x0010s\x00--format\x00flamegraph",
	} {
		f.Add(s)
	}
	getenv := func(string) string { return "" }
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		for i := range commands {
			c := &commands[i]
			fs, _ := c.flagSet(io.Discard, getenv)
			pos, err := parseInterleaved(fs, args)
			if err != nil {
				continue
			}
			if err := c.checkArgs(pos); err != nil {
				continue
			}
			g := newGlobalFlags(getenv)
			global := flag.NewFlagSet("agent ctl", flag.ContinueOnError)
			global.SetOutput(io.Discard)
			g.bind(global)
			if err := applyGlobals(global, fs); err != nil {
				continue
			}
			if c.fileOutput {
				g.outputAsFile(fs)
			}
			_ = g.finish(getenv)
		}
		_, _ = parseValue(line)
		_, _ = parseParams(line)
		_, _ = parseStatus(line)
	})
}
