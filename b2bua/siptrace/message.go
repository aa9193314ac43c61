package siptrace

import (
	"bytes"
	"time"
)

// Message is one SIP message as a transport sent or received it.
type Message struct {
	Time      time.Time
	In        bool   // received (true) or sent
	Transport string // "udp", "tcp", "tls", "ws", "wss"
	Local     string // our host:port
	Remote    string // the peer's host:port
	Data      []byte // the whole message
	// Guess is set when Transport is only the family the connection
	// belongs to ("tcp" for TLS too, "ws" for WSS too): the top Via says which.
	Guess bool
}

// Summary is what the trace needs of a message's headers. Summarize
// allocates nothing for it (issue 20: every message is summarized, sent
// and received): Method and Via are constants for the usual values, and
// the other parts are read from the message's bytes only when asked for,
// so a Summary is only valid while its message's Data is (an observer's
// call); its accessors return copies.
type Summary struct {
	Method string // request method, or the CSeq method of a response
	Status int    // response status code; 0 for a request
	Via    string // transport of the top Via, lower case ("wss")

	firstLine, callID, fromUser, toUser, uriUser []byte
}

// FirstLine is the start line.
func (s Summary) FirstLine() string { return string(s.firstLine) }

// CallID is the Call-ID header's value.
func (s Summary) CallID() string { return string(s.callID) }

// CallIDBytes is CallID without a copy: the bytes of the message, to be
// read only and not kept (a map lookup by string(b) allocates nothing).
func (s Summary) CallIDBytes() []byte { return s.callID }

// FromUser is the user part of the From URI.
func (s Summary) FromUser() string { return string(s.fromUser) }

// ToUser is the user part of the To URI.
func (s Summary) ToUser() string { return string(s.toUser) }

// URIUser is the user part of the Request-URI.
func (s Summary) URIUser() string { return string(s.uriUser) }

// HasCallID reports whether the message has a non-empty Call-ID, without
// copying it.
func (s Summary) HasCallID() bool { return len(s.callID) > 0 }

// matchUser reports whether ext is the user of From, To or the Request-URI.
func (s Summary) matchUser(ext string) bool {
	return string(s.fromUser) == ext || string(s.toUser) == ext || string(s.uriUser) == ext
}

const maxHeaderLines = 200 // lines of a header section looked at

var crlfcrlf = []byte("\r\n\r\n")

// Summarize reads the start line and the headers the trace needs. It never
// fails: what it cannot read stays empty. The Summary refers to data.
func Summarize(data []byte) Summary {
	var s Summary
	head := data
	if i := bytes.Index(head, crlfcrlf); i >= 0 {
		head = head[:i]
	}
	for n := 0; len(head) > 0 && n < maxHeaderLines; n++ {
		var line []byte
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			line, head = head, nil
		}
		line = bytes.TrimRight(line, "\r")
		if n == 0 {
			s.startLine(line)
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		s.header(trimSpace(name), trimSpace(value))
	}
	return s
}

func (s *Summary) header(name, value []byte) {
	switch {
	case is(name, "call-id", "i"):
		if len(s.callID) == 0 {
			s.callID = value
		}
	case is(name, "from", "f"):
		if len(s.fromUser) == 0 {
			s.fromUser = uriUser(value)
		}
	case is(name, "to", "t"):
		if len(s.toUser) == 0 {
			s.toUser = uriUser(value)
		}
	case is(name, "via", "v"):
		if s.Via == "" {
			s.Via = viaTransport(value)
		}
	case is(name, "cseq", ""):
		if s.Method == "" {
			_, rest := field(value)
			m, rest := field(rest)
			if extra, _ := field(rest); len(m) > 0 && len(extra) == 0 {
				s.Method = method(m)
			}
		}
	}
}

// is reports whether a header name is long or its compact form short.
func is(name []byte, long, short string) bool {
	return len(name) == len(long) && bytes.EqualFold(name, []byte(long)) ||
		short != "" && len(name) == 1 && bytes.EqualFold(name, []byte(short))
}

func (s *Summary) startLine(l []byte) {
	s.firstLine = l
	f0, rest := field(l)
	f1, _ := field(rest)
	if len(f1) == 0 {
		return
	}
	if bytes.HasPrefix(f0, []byte("SIP/")) {
		if code, ok := atoi3(f1); ok && code >= 100 && code < 700 {
			s.Status = code
		}
		return
	}
	s.Method = method(f0)
	s.uriUser = uriUser(f1)
}

// atoi3 reads a status code: one to three digits.
func atoi3(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 3 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// methods are the methods whose name Summarize returns without allocating.
var methods = []string{"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK", "UPDATE", "INFO",
	"REFER", "SUBSCRIBE", "NOTIFY", "MESSAGE", "PUBLISH"}

// method is m in upper case.
func method(m []byte) string {
	for _, k := range methods {
		if len(k) == len(m) && bytes.EqualFold(m, []byte(k)) {
			return k
		}
	}
	return string(bytes.ToUpper(m))
}

// transports are the Via transports Summarize returns without allocating.
var transports = []string{"udp", "tcp", "tls", "ws", "wss", "sctp"}

// field returns the first whitespace-separated field of b and what follows it.
func field(b []byte) (f, rest []byte) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	j := i
	for j < len(b) && !isSpace(b[j]) {
		j++
	}
	return b[i:j], b[j:]
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// uriUser is the user part of a SIP URI, alone or in a name-addr.
func uriUser(v []byte) []byte {
	if i := bytes.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := bytes.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	_, rest, ok := bytes.Cut(v, []byte(":")) // scheme
	if !ok {
		return nil
	}
	user, _, ok := bytes.Cut(rest, []byte("@"))
	if !ok {
		return nil
	}
	user, _, _ = bytes.Cut(user, []byte(";"))
	user, _, _ = bytes.Cut(user, []byte(":")) // password
	return user
}

// viaTransport is "wss" of "SIP/2.0/WSS host;branch=...".
func viaTransport(v []byte) string {
	sent, _ := field(v)
	_, rest, ok := bytes.Cut(sent, []byte("/"))
	if !ok {
		return ""
	}
	_, t, ok := bytes.Cut(rest, []byte("/"))
	if !ok || bytes.IndexByte(t, '/') >= 0 {
		return ""
	}
	for _, k := range transports {
		if len(k) == len(t) && bytes.EqualFold(t, []byte(k)) {
			return k
		}
	}
	return string(bytes.ToLower(t))
}
