package ctl

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress shows a countdown bar, "recording [#####·····] 3s/10s", in
// place on w every second while a recording of total runs, until the
// returned stop is called; nothing when w is not a terminal (a script's
// stderr stays clean).
func progress(w io.Writer, total time.Duration) (stop func()) {
	if !isTerminal(w) {
		return func() {}
	}
	every := time.Second
	start := time.Now()
	show := func() {
		elapsed := min(time.Since(start), total).Truncate(time.Second)
		fmt.Fprintf(w, "\rrecording %s %v/%v\033[K", bar(elapsed, total, 20), elapsed, total)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		show()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				show()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		fmt.Fprintln(w)
	}
}

// bar draws done/total as width cells: "[#####·····]".
func bar(done, total time.Duration, width int) string {
	n := width
	if total > 0 {
		n = int(int64(width) * int64(done) / int64(total))
	}
	n = min(max(n, 0), width)
	return "[" + strings.Repeat("#", n) + strings.Repeat("·", width-n) + "]"
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
