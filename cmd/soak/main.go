// Command soak runs a bounded mixed load against a real agent on loopback
// (creates of exec and echo actors, stops, sends, scrapes, streams,
// introspection and config dumps) and compares the agent's RSS, heap,
// goroutines, threads and file descriptors after the load with those after
// a warm-up. It fails when any grew past its noise margin, or when a worker
// is left running after StopAll. `make soak` runs it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/procagent/procagent/internal/osproc"
)

func main() {
	os.Exit(run())
}

// figures are the agent's resource use at one moment.
type figures struct {
	RSS, Heap                     int64
	Goroutines, Threads, FDs, Kid int
}

func (f figures) String() string {
	return fmt.Sprintf("rss=%.1fMiB heap=%.1fMiB goroutines=%d threads=%d fds=%d marked=%d",
		float64(f.RSS)/(1<<20), float64(f.Heap)/(1<<20), f.Goroutines, f.Threads, f.FDs, f.Kid)
}

func run() int {
	bin := flag.String("agent", "bin/agent", "the agent binary")
	dur := flag.Duration("duration", 60*time.Second, "how long the load runs")
	flag.Parse()
	if err := soak(*bin, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 1
	}
	return 0
}

func soak(bin string, dur time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), dur+2*time.Minute)
	defer cancel()
	marker := fmt.Sprintf("1004.%d", os.Getpid())
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--auth", "none",
		"--orphan-timeout", "0", "--flush-timeout", "1s", "--terminated-resource-retention", "1000")
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(out)
	var base string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "procagent listening on "); ok {
			base = u
			break
		}
	}
	if base == "" {
		return errors.New("the agent did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	c := &client{base: base, http: &http.Client{Timeout: 10 * time.Second}}
	pid := cmd.Process.Pid

	n := 0 // cycles so far: ids stay unique across both phases
	load := func(d time.Duration) (int, error) {
		first := n
		for end := time.Now().Add(d); time.Now().Before(end); n++ {
			if err := c.cycle(ctx, n, marker); err != nil {
				return n - first, err
			}
		}
		return n - first, nil
	}
	if _, err := load(dur / 6); err != nil { // warm-up
		return err
	}
	start, err := c.figures(ctx, pid, marker)
	if err != nil {
		return err
	}
	fmt.Println("start:", start)
	cycles, err := load(dur - dur/6)
	if err != nil {
		return err
	}
	end, err := c.figures(ctx, pid, marker)
	if err != nil {
		return err
	}
	fmt.Printf("end:   %s (%d cycles)\n", end, cycles)
	var errs []error
	check := func(what string, a, b, margin int64) {
		if b > a+margin {
			errs = append(errs, fmt.Errorf("%s grew from %d to %d (margin %d)", what, a, b, margin))
		}
	}
	check("rss", start.RSS, end.RSS, start.RSS/2+32<<20)
	check("heap", start.Heap, end.Heap, start.Heap+32<<20)
	check("goroutines", int64(start.Goroutines), int64(end.Goroutines), 50)
	check("threads", int64(start.Threads), int64(end.Threads), 10)
	check("fds", int64(start.FDs), int64(end.FDs), 30)

	if err := c.post(ctx, "StopAll", `{"reason":"soak"}`); err != nil {
		errs = append(errs, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			errs = append(errs, fmt.Errorf("agent exit: %w", err))
		}
	case <-time.After(time.Minute):
		errs = append(errs, errors.New("the agent did not exit after StopAll"))
	}
	for range 100 {
		if len(marked(marker)) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if left := marked(marker); len(left) > 0 {
		errs = append(errs, fmt.Errorf("processes left after StopAll: %v", left))
	}
	return errors.Join(errs...)
}

type client struct {
	base string
	http *http.Client
}

func (c *client) post(ctx context.Context, rpc, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/procagent.v1.ProcAgentService/"+rpc, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", rpc, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s: %w", rpc, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", rpc, res.StatusCode, b)
	}
	return nil
}

func (c *client) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	return io.ReadAll(res.Body)
}

// stream opens StreamState for id, reads its first message and goes away.
func (c *client) stream(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body := []byte(`{"id":"` + id + `"}`)
	env := make([]byte, 5+len(body))
	env[4] = byte(len(body)) //nolint:gosec // an id of a few bytes: under 256
	copy(env[5:], body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/procagent.v1.ProcAgentService/StreamState", bytes.NewReader(env))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/connect+json")
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("StreamState: %w", err)
	}
	defer res.Body.Close()
	head := make([]byte, 5)
	_, err = io.ReadFull(res.Body, head)
	return err
}

// cycle is one round of the mixed load.
func (c *client) cycle(ctx context.Context, n int, marker string) error {
	w := "w" + strconv.Itoa(n%20)
	e := "e" + strconv.Itoa(n)
	steps := []func() error{
		func() error {
			err := c.post(ctx, "CreateOrUpdate", `{"id":"`+w+`-`+strconv.Itoa(n)+`","spec":{"actorType":"exec","params":{"argv":["sleep","`+marker+`"]}}}`)
			return err
		},
		func() error {
			err := c.post(ctx, "CreateOrUpdate", `{"id":"`+e+`","spec":{"actorType":"echo"}}`)
			return err
		},
		func() error { err := c.post(ctx, "Send", `{"id":"`+e+`","payload":{"n":1},"wait":true}`); return err },
		func() error { return c.stream(ctx, e) },
		func() error { _, err := c.get(ctx, "/metrics"); return err },
		func() error { err := c.post(ctx, "QueryChild", `{"ref":""}`); return err },
		func() error { err := c.post(ctx, "List", `{}`); return err },
		func() error { err := c.post(ctx, "ConfigDump", `{}`); return err },
		func() error {
			if n >= 5 {
				err := c.post(ctx, "Stop", `{"id":"w`+strconv.Itoa((n-5)%20)+`-`+strconv.Itoa(n-5)+`","reason":"soak"}`)
				return err
			}
			return nil
		},
		func() error {
			err := c.post(ctx, "Stop", `{"id":"`+e+`","reason":"soak"}`)
			return err
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// figures reads the agent's threads, fds and RSS from /proc and its heap
// and goroutines from /metrics.
func (c *client) figures(ctx context.Context, pid int, marker string) (figures, error) {
	var f figures
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return f, err
	}
	for line := range strings.Lines(string(status)) {
		k, v, _ := strings.Cut(line, ":")
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fs[0], 10, 64)
		switch k {
		case "VmRSS":
			f.RSS = n << 10
		case "Threads":
			f.Threads = int(n)
		}
	}
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return f, err
	}
	f.FDs = len(fds)
	m, err := c.get(ctx, "/metrics")
	if err != nil {
		return f, err
	}
	for line := range strings.Lines(string(m)) {
		fs := strings.Fields(line)
		if len(fs) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(fs[1], 64)
		switch fs[0] {
		case "go_memstats_heap_alloc_bytes":
			f.Heap = int64(v)
		case "go_goroutines":
			f.Goroutines = int(v)
		}
	}
	f.Kid = len(marked(marker)) // workers and their shims
	return f, nil
}

// marked lists the live processes whose argv holds marker, but the soak.
func marked(marker string) []int {
	pids, _ := osproc.Matching(osproc.DefaultRoot, marker)
	return slices.DeleteFunc(pids, func(pid int) bool { return pid == os.Getpid() })
}
