package siptrace

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
)

// A stream transport (TCP, TLS) reads bytes, not messages: a read can hold
// part of a message or several. framers cut each connection's bytes into
// whole messages by their Content-Length (RFC 3261 §18.3).
const (
	maxFramed   = 64 << 10 // bytes buffered per connection; beyond, flushed as is
	maxFramers  = 10000    // connections followed; beyond, all are forgotten
	maxBodySize = maxFramed
)

type framers struct {
	mu    sync.Mutex
	conns map[string]*framer // by remote address
}

type framer struct{ buf []byte }

func newFramers() *framers { return &framers{conns: make(map[string]*framer)} }

// feed adds a chunk read from remote and calls emit for every whole message.
func (fs *framers) feed(remote string, chunk []byte, emit func([]byte)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.conns[remote]
	if f == nil {
		if len(fs.conns) >= maxFramers {
			clear(fs.conns)
		}
		f = &framer{}
		fs.conns[remote] = f
	}
	f.buf = append(f.buf, chunk...)
	f.buf = cut(f.buf, emit)
	if len(f.buf) > maxFramed {
		emit(f.buf)
		f.buf = f.buf[:0]
	}
}

// forget drops what was buffered for a connection that closed.
func (fs *framers) forget(remote string) {
	fs.mu.Lock()
	delete(fs.conns, remote)
	fs.mu.Unlock()
}

// cut emits the whole messages at the start of buf and returns the rest
// (moved to the front of buf).
func cut(buf []byte, emit func([]byte)) []byte {
	start := 0
	for start < len(buf) {
		for start < len(buf) && (buf[start] == '\r' || buf[start] == '\n') {
			start++ // keep-alive CRLFs between messages
		}
		rest := buf[start:]
		end := bytes.Index(rest, []byte("\r\n\r\n"))
		if end < 0 {
			break
		}
		n := end + 4 + contentLength(rest[:end])
		if n > len(rest) {
			break
		}
		emit(rest[:n])
		start += n
	}
	return append(buf[:0], buf[start:]...)
}

// contentLength reads Content-Length (or its compact form l) from a header
// section; absent or unreadable is 0, and it is capped at maxBodySize.
func contentLength(head []byte) int {
	for _, line := range bytes.Split(head, []byte("\n")) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch strings.ToLower(string(bytes.TrimSpace(name))) {
		case "content-length", "l":
			n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
			if err != nil || n < 0 {
				return 0
			}
			return min(n, maxBodySize)
		}
	}
	return 0
}
