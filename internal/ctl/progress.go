package ctl

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress shows "recording… 3s/10s" on w while a recording of total
// runs, until the returned stop is called: in place every second on a
// terminal, a line every 5 s otherwise.
func progress(w io.Writer, total time.Duration) (stop func()) {
	tty := isTerminal(w)
	every, format := 5*time.Second, "recording… %v/%v\n"
	if tty {
		every, format = time.Second, "\rrecording… %v/%v\033[K"
	}
	start := time.Now()
	show := func() {
		elapsed := min(time.Since(start), total).Truncate(time.Second)
		fmt.Fprintf(w, format, elapsed, total)
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
		if tty {
			fmt.Fprintln(w)
		}
	}
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
