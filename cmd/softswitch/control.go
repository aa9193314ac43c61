package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The control socket lets `softswitch reload` and `softswitch trunk
// status` talk to the running server: a Unix socket in the data
// directory, readable by its owner only. A request is one line (the
// command); the answer is "ok" or "error", a newline, then text.
const controlSocket = "control.sock"

// controlHandler runs one control command and returns its text.
type controlHandler func() (string, error)

type control struct {
	l    net.Listener
	path string
	cmds map[string]controlHandler
	log  *slog.Logger
	wg   sync.WaitGroup
}

// startControl listens on DATA/control.sock. A socket left by a server that
// died is replaced; one a live server answers on is an error.
func startControl(data string, cmds map[string]controlHandler, log *slog.Logger) (*control, error) {
	path := filepath.Join(data, controlSocket)
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another softswitch runs on this data directory", path)
	}
	_ = os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	c := &control{l: l, path: path, cmds: cmds, log: log}
	c.wg.Add(1)
	go c.serve()
	return c, nil
}

func (c *control) serve() {
	defer c.wg.Done()
	for {
		conn, err := c.l.Accept()
		if err != nil {
			return // closed
		}
		c.handle(conn) // one at a time: commands are short and rare
	}
}

func (c *control) handle(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(io.LimitReader(conn, 256)).ReadString('\n')
	if err != nil {
		return
	}
	cmd := strings.TrimSpace(line)
	h, ok := c.cmds[cmd]
	if !ok {
		fmt.Fprintf(conn, "error\nunknown control command %q\n", cmd)
		return
	}
	text, err := h()
	if err != nil {
		fmt.Fprintf(conn, "error\n%s\n", err)
		return
	}
	fmt.Fprintf(conn, "ok\n%s", text)
}

// close stops listening and removes the socket.
func (c *control) close() {
	_ = c.l.Close()
	c.wg.Wait()
	_ = os.Remove(c.path)
}

// controlCall sends cmd to the server running on data and returns its text.
func controlCall(data, cmd string) (string, error) {
	path := filepath.Join(data, controlSocket)
	conn, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return "", fmt.Errorf("no softswitch running on data directory %s (%w)", data, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := fmt.Fprintf(conn, "%s\n", cmd); err != nil {
		return "", fmt.Errorf("control: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(conn, 1<<20))
	if err != nil {
		return "", fmt.Errorf("control: %w", err)
	}
	status, text, _ := strings.Cut(string(raw), "\n")
	switch status {
	case "ok":
		return text, nil
	case "error":
		return "", errors.New(strings.TrimSpace(text))
	}
	return "", fmt.Errorf("control: unexpected answer %q", status)
}

// controlCmd implements `softswitch reload` and `softswitch trunk status`.
func controlCmd(name, cmd string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := fs.String("data", "./data", "data directory of the running server")
	if err := fs.Parse(args); err != nil {
		return usageError(name + ": " + err.Error())
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Sprintf("%s: unexpected argument %q", name, fs.Arg(0)))
	}
	text, err := controlCall(*data, cmd)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = io.WriteString(stdout, text)
	return err
}
