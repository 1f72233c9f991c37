// Package clustertest runs real Sluice brokers for tests: as separate
// processes of the sluice binary (so kill -9 is real) on free 127.0.0.1
// ports, each with its own data directory.
package clustertest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/sluice (with -race unless SLUICE_TEST_NORACE is set)
// once per test process and returns its path; SLUICE_BIN names a prebuilt
// binary instead.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if bin := os.Getenv("SLUICE_BIN"); bin != "" {
			binPath = bin // a prebuilt binary
			return
		}
		dir, err := os.MkdirTemp("", "sluice-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sluice")
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-race", "-o", binPath, "./cmd/sluice")
		if os.Getenv("SLUICE_TEST_NORACE") != "" {
			cmd = exec.Command("go", "build", "-o", binPath, "./cmd/sluice")
		}
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Process is a sluice server running as a child process.
type Process struct {
	t       testing.TB
	DataDir string
	Args    []string
	addr    string
	cmd     *exec.Cmd
	logs    *syncBuffer
	done    chan struct{}
}

// StartProcess starts `sluice server` with a data dir in t.TempDir() on a
// free port. extra are further arguments (e.g. "--override", "k=v").
func StartProcess(t testing.TB, extra ...string) *Process {
	t.Helper()
	p := &Process{t: t, DataDir: t.TempDir(), Args: extra}
	p.Start()
	t.Cleanup(func() { p.Stop() })
	return p
}

var listenRe = regexp.MustCompile(`listeners=\[([0-9.]+:[0-9]+)`)

// Start (re)starts the process on its data directory. The first start picks
// a free port; restarts reuse it so clients can reconnect.
func (p *Process) Start() {
	p.t.Helper()
	listen := "127.0.0.1:0"
	if p.addr != "" {
		listen = p.addr
	}
	args := append([]string{"server", "--data-dir", p.DataDir, "--listen", listen}, p.Args...)
	p.cmd = exec.Command(Binary(p.t), args...)
	p.logs = &syncBuffer{}
	pr, pw := io.Pipe()
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = io.MultiWriter(p.logs, pw)
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.done = make(chan struct{})
	go func() {
		p.cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listenRe.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case addr := <-found:
		p.addr = addr
	case <-p.done:
		p.t.Fatalf("sluice server exited at start:\n%s", p.logs.String())
	case <-time.After(60 * time.Second):
		p.t.Fatalf("sluice server did not start in 60s:\n%s", p.logs.String())
	}
}

// Addr returns host:port.
func (p *Process) Addr() string { return p.addr }

// Logs returns what the process wrote so far.
func (p *Process) Logs() string { return p.logs.String() }

// Kill sends SIGKILL and waits for the process to die.
func (p *Process) Kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

// Stop sends SIGTERM and waits (killing after 20 s).
func (p *Process) Stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Pid returns the running process's id (0 if not running).
func (p *Process) Pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}
