package exporters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// proc is one process the harness started: an exporter or the agent.
type proc struct {
	name   string
	cmd    *exec.Cmd
	addr   string // host:port of its /metrics
	path   string // metrics path
	exited chan struct{}
	log    *os.File
	token  string // bearer token its endpoints want, if any
}

// freePort returns a loopback port that was free a moment ago.
func freePort(ctx context.Context) (string, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// start runs bin with args, its output to logPath, in its own process
// group, killed by the kernel if this process dies first.
func start(name, bin string, args, env []string, addr, metricsPath, logPath, token string) (*proc, error) {
	lf, err := os.Create(logPath) //nolint:gosec // G304: a file in the run's own directory
	if err != nil {
		return nil, err
	}
	// Not tied to a context: stop (SIGTERM to the group, then SIGKILL) ends it.
	cmd := exec.CommandContext(context.Background(), bin, args...) //nolint:gosec // G204: binaries resolved by the harness
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, addr: addr, path: metricsPath, exited: make(chan struct{}), log: lf, token: token}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) url() string { return "http://" + p.addr + p.path }

// waitReady polls its metrics until they answer 200, or the deadline.
func (p *proc) waitReady(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		if _, _, err := p.scrape(ctx); err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before it served metrics (see its log %s)", p.name, p.log.Name())
		case <-ctx.Done():
			return fmt.Errorf("%s did not serve %s within %s", p.name, p.url(), within)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop asks the process group to end (SIGTERM), then kills it after grace.
func (p *proc) stop(grace time.Duration) {
	select {
	case <-p.exited:
	default:
		_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(grace):
			_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
			<-p.exited
		}
	}
	_ = p.log.Close()
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

// scrape GETs the process's metrics and returns the body and the time to
// read all of it.
func (p *proc) scrape(ctx context.Context) ([]byte, time.Duration, error) {
	url := p.url()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	start := time.Now()
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	d := time.Since(start)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, errors.New(url + ": " + strconv.Itoa(resp.StatusCode))
	}
	return b, d, nil
}

// countSeries counts the samples of a text exposition: lines that are
// neither blank nor comments.
func countSeries(b []byte) int {
	n := 0
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		line := b[:i]
		if len(line) > 0 && line[0] != '#' {
			n++
		}
		if i == len(b) {
			break
		}
		b = b[i+1:]
	}
	return n
}
