package ctl

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// meshProgressEvery is how often the bar is redrawn.
const meshProgressEvery = 100 * time.Millisecond

// meshProgress draws "mesh create [#####·····] 512/1000 ranks" in place
// on a terminal while a mesh command's casts are in flight. The fleet
// calls update from its goroutines; a goroutine of its own redraws.
type meshProgress struct {
	w           io.Writer
	label       string
	done, total atomic.Int64
	quit        chan struct{}
	wg          sync.WaitGroup
	once        sync.Once
}

// newMeshProgress starts the bar on w, or returns nil when w is not a
// terminal (a script's stderr stays clean). Its stop may be called on nil.
func newMeshProgress(w io.Writer, label string) *meshProgress {
	if !isTerminal(w) {
		return nil
	}
	p := &meshProgress{w: w, label: label, quit: make(chan struct{})}
	p.wg.Go(func() {
		tick := time.NewTicker(meshProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-tick.C:
				p.draw()
			}
		}
	})
	return p
}

// update records that done of total ranks of the current cast answered.
func (p *meshProgress) update(done, total int) {
	p.total.Store(int64(total))
	p.done.Store(int64(done))
}

// draw redraws the bar once there is something to show.
func (p *meshProgress) draw() {
	if total := p.total.Load(); total > 0 {
		fmt.Fprintf(p.w, "\r%s\033[K", progressLine(p.label, int(p.done.Load()), int(total)))
	}
}

// stop ends the bar and its goroutine and clears its line; idempotent,
// and a no-op on nil.
func (p *meshProgress) stop() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		close(p.quit)
		p.wg.Wait()
		if p.total.Load() > 0 {
			fmt.Fprint(p.w, "\r\033[K")
		}
	})
}

// progressLine is the bar's text: "mesh create [#####·····] 512/1000 ranks".
func progressLine(label string, done, total int) string {
	return fmt.Sprintf("%s %s %d/%d ranks", label, bar(time.Duration(done), time.Duration(total), 20), done, total)
}
