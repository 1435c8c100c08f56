package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is one run of the manager, logging to a file.
type process struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

// startProcess runs bin with args and extra environment, logging to logPath.
func startProcess(logPath string, env []string, bin string, args ...string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &process{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited waits up to timeout for the process to exit by itself.
func (p *process) exited(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits up to grace for a clean exit; it kills the process and reports an
// error if it did not exit, or did not exit cleanly, in time.
func (p *process) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return fmt.Errorf("the manager had exited: %w", p.err)
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if !p.exited(grace) {
		p.kill()
		return fmt.Errorf("the manager did not stop within %s of SIGTERM", grace)
	}
	if p.err != nil {
		return fmt.Errorf("the manager stopped with %w", p.err)
	}
	return nil
}

// killedBy reports whether the process's log says a failpoint killed it.
func (p *process) killedBy(point string) bool {
	data, err := os.ReadFile(p.logPath)
	return err == nil && strings.Contains(string(data), "capstan failpoint "+point+": kill")
}

// tail returns the last n lines of the log.
func (p *process) tail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// logged reports whether a line of the log contains substr.
func (p *process) logged(substr string) bool {
	data, err := os.ReadFile(p.logPath)
	return err == nil && strings.Contains(string(data), substr)
}

// waitLog waits up to timeout for a line of the log containing substr.
func (p *process) waitLog(substr string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p.logged(substr) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
