package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal and returns its controller and terminal ends.
func openPTY(t *testing.T) (controller, tty *os.File) {
	t.Helper()
	controller, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal on this machine: %v", err)
	}
	t.Cleanup(func() { _ = controller.Close() })
	fd := int(controller.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tty.Close() })
	return controller, tty
}

// TestProgressFor shows `status --wait` choosing its display: a line rewritten in place, cut to
// the terminal's width, on a terminal; plain lines on a file.
func TestProgressFor(t *testing.T) {
	g := NewWithT(t)
	controller, tty := openPTY(t)
	g.Expect(unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 30})).To(Succeed())
	p := progressFor(tty)
	p.Show("Ready=Unknown (Progressing): Installing revision 1")
	p.Done()
	line, err := bufio.NewReader(controller).ReadString('\n')
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(line).To(HavePrefix("\r\x1b[K[0s] Ready=Unknown"))
	g.Expect(len([]rune(strings.TrimRight(strings.TrimPrefix(line, "\r\x1b[K"), "\r\n")))).To(Equal(29), "cut to the 30 columns")

	file, err := os.Create(t.TempDir() + "/progress")
	g.Expect(err).NotTo(HaveOccurred())
	p = progressFor(file)
	p.Show("Ready=True (InstallSucceeded): Revision 1 is deployed")
	p.Done()
	g.Expect(file.Close()).To(Succeed())
	out, err := os.ReadFile(file.Name())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(out)).To(Equal("Ready=True (InstallSucceeded): Revision 1 is deployed\n"))
}
