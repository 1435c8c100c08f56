package testsupport

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Process is a program a test suite started, with its standard output and error in a log file.
type Process struct {
	// Name names the program in errors.
	Name string
	// LogPath is the file its standard output and error go to.
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

// StartProcess runs bin with args and env, logging to logPath.
func StartProcess(name, logPath string, env []string, bin string, args ...string) (*Process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating the log of %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...) //nolint:gosec // G204: tests start the binaries they built.
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and waits up to grace for a clean exit, then kills the process. It returns
// the exit error of a process that did not stop cleanly.
func (p *Process) Stop(grace time.Duration) error {
	if !p.Running() {
		return p.ExitError()
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.ExitError()
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s of SIGTERM", p.Name, grace)
	}
}

// ExitError is the error of a process that exited unsuccessfully, nil otherwise.
func (p *Process) ExitError() error {
	if p.err != nil {
		return fmt.Errorf("%s exited: %w", p.Name, p.err)
	}
	return nil
}

// LogTail returns the last n lines of the process's log.
func (p *Process) LogTail(n int) string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", p.LogPath, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WaitForLogLine waits until a line of the log contains substr and returns that line.
func (p *Process) WaitForLogLine(substr string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if line, ok := p.findLogLine(substr); ok {
			return line, nil
		}
		if !p.Running() {
			return "", errors.Join(fmt.Errorf("%s exited before logging %q", p.Name, substr), p.ExitError())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", fmt.Errorf("%s logged no line containing %q within %s", p.Name, substr, timeout)
}

func (p *Process) findLogLine(substr string) (string, bool) {
	f, err := os.Open(p.LogPath)
	if err != nil {
		return "", false
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.Contains(s.Text(), substr) {
			return s.Text(), true
		}
	}
	return "", false
}
