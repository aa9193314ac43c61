package main

import (
	"bufio"
	"context"
	"errors"
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

// controlHandler runs one control command with its arguments and returns
// its text.
type controlHandler func(args []string) (string, error)

// streamHandler runs a command whose answer is a stream (softswitch
// trace): it writes to w until ctx ends (the client went away, or the
// server stops) and runs beside the other commands.
type streamHandler func(ctx context.Context, args []string, w io.Writer) error

// maxStreams bounds the streaming commands running at once.
const maxStreams = 8

type control struct {
	l       net.Listener
	path    string
	cmds    map[string]controlHandler
	streams map[string]streamHandler
	log     *slog.Logger
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	slots   chan struct{}
}

// startControl listens on DATA/control.sock. A socket left by a server that
// died is replaced; one a live server answers on is an error.
func startControl(data string, cmds map[string]controlHandler, streams map[string]streamHandler, log *slog.Logger) (*control, error) {
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
	c := &control{l: l, path: path, cmds: cmds, streams: streams, log: log, slots: make(chan struct{}, maxStreams)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
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
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(io.LimitReader(conn, 1024)).ReadString('\n')
	if err != nil {
		conn.Close()
		return
	}
	fields := strings.Fields(line)
	if sh, args, ok := lookup(c.streams, fields); ok {
		c.stream(conn, sh, args)
		return
	}
	defer conn.Close()
	h, args, ok := lookup(c.cmds, fields)
	if !ok {
		fmt.Fprintf(conn, "error\nunknown control command %q\n", strings.TrimSpace(line))
		return
	}
	text, err := h(args)
	if err != nil {
		fmt.Fprintf(conn, "error\n%s\n", err)
		return
	}
	fmt.Fprintf(conn, "ok\n%s", text)
}

// lookup finds the command named by the longest run of leading fields
// ("trunk status", "calls hangup") and returns the fields after it.
func lookup[H any](m map[string]H, fields []string) (H, []string, bool) {
	for n := len(fields); n > 0; n-- {
		if h, ok := m[strings.Join(fields[:n], " ")]; ok {
			return h, fields[n:], true
		}
	}
	var zero H
	return zero, nil, false
}

// stream runs a streaming command on its own goroutine; it ends when the
// client closes its side, or the control socket closes.
func (c *control) stream(conn net.Conn, h streamHandler, args []string) {
	select {
	case c.slots <- struct{}{}:
	default:
		fmt.Fprintf(conn, "error\ntoo many streams open (at most %d)\n", maxStreams)
		conn.Close()
		return
	}
	_ = conn.SetDeadline(time.Time{})
	ctx, cancel := context.WithCancel(c.ctx)
	c.wg.Add(2)
	go func() { // the client sends nothing more: EOF means it is gone
		defer c.wg.Done()
		defer cancel()
		_, _ = io.Copy(io.Discard, io.LimitReader(conn, 1024))
	}()
	go func() {
		defer c.wg.Done()
		defer func() { <-c.slots }()
		defer conn.Close()
		defer cancel()
		w := &deadlineWriter{conn: conn}
		if _, err := io.WriteString(w, "ok\n"); err != nil {
			return
		}
		if err := h(ctx, args, w); err != nil {
			fmt.Fprintf(w, "error: %s\n", err)
		}
	}()
}

// deadlineWriter gives each write 10 s: a client that stops reading
// ends its stream instead of holding it.
type deadlineWriter struct{ conn net.Conn }

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return d.conn.Write(p)
}

// close stops listening, ends the streams and removes the socket.
func (c *control) close() {
	c.cancel()
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

// controlStream sends cmd and copies the stream it answers to w until the
// server ends it (or ctx ends).
func controlStream(ctx context.Context, data, cmd string, w io.Writer) error {
	path := filepath.Join(data, controlSocket)
	conn, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return fmt.Errorf("no softswitch running on data directory %s (%w)", data, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := fmt.Fprintf(conn, "%s\n", cmd); err != nil {
		return fmt.Errorf("control: %w", err)
	}
	r := bufio.NewReader(conn)
	status, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	switch strings.TrimSpace(status) {
	case "ok":
	case "error":
		text, _ := io.ReadAll(io.LimitReader(r, 4096))
		return errors.New(strings.TrimSpace(string(text)))
	default:
		return fmt.Errorf("control: unexpected answer %q", status)
	}
	if _, err := io.Copy(w, r); err != nil && ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("control: %w", err)
	}
	return nil
}

// controlCmd implements `softswitch reload` and `softswitch trunk status`:
// the command's name goes to the running server as is.
func controlCmd(stdout io.Writer, name, about string, args []string) error {
	c := newCommand(stdout, name, "", "Ask the running server to "+about+".")
	data := c.dataFlag()
	if _, err := c.parseN(args); err != nil {
		return err
	}
	text, err := controlCall(*data, name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = io.WriteString(stdout, text)
	return err
}

// argCmd implements control commands that take up to max positional
// arguments (`softswitch log-level debug`): they are sent after the
// command's name.
func argCmd(stdout io.Writer, name, synopsis, about string, max int, args []string) error {
	c := newCommand(stdout, name, synopsis, "Ask the running server to "+about+".")
	data := c.dataFlag()
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > max {
		return usageError(fmt.Sprintf("%s: unexpected argument %q (want %s)", name, pos[max], synopsis))
	}
	for _, a := range pos {
		if a == "" || strings.ContainsAny(a, " \t\n") {
			return usageError(fmt.Sprintf("%s: %q: arguments cannot be empty or hold spaces", name, a))
		}
	}
	text, err := controlCall(*data, strings.Join(append([]string{name}, pos...), " "))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = io.WriteString(stdout, text)
	return err
}
