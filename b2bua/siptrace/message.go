package siptrace

import (
	"bytes"
	"strconv"
	"strings"
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

// Summary is what the trace needs of a message's headers.
type Summary struct {
	FirstLine string
	Method    string // request method, or the CSeq method of a response
	Status    int    // response status code; 0 for a request
	CallID    string
	FromUser  string
	ToUser    string
	URIUser   string // user part of the Request-URI
	Via       string // transport of the top Via, lower case ("wss")
}

const maxHeaderLines = 200 // lines of a header section looked at

// Summarize reads the start line and the headers the trace needs. It never
// fails: what it cannot read stays empty.
func Summarize(data []byte) Summary {
	var s Summary
	head := data
	if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
		head = head[:i]
	}
	for n := 0; len(head) > 0 && n < maxHeaderLines; n++ {
		var line []byte
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			line, head = head, nil
		}
		l := strings.TrimRight(string(line), "\r")
		if n == 0 {
			s.startLine(l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "call-id", "i":
			if s.CallID == "" {
				s.CallID = value
			}
		case "from", "f":
			if s.FromUser == "" {
				s.FromUser = uriUser(value)
			}
		case "to", "t":
			if s.ToUser == "" {
				s.ToUser = uriUser(value)
			}
		case "via", "v":
			if s.Via == "" {
				s.Via = viaTransport(value)
			}
		case "cseq":
			if s.Method == "" {
				if f := strings.Fields(value); len(f) == 2 {
					s.Method = strings.ToUpper(f[1])
				}
			}
		}
	}
	return s
}

func (s *Summary) startLine(l string) {
	s.FirstLine = l
	f := strings.Fields(l)
	if len(f) < 2 {
		return
	}
	if strings.HasPrefix(f[0], "SIP/") {
		if code, err := strconv.Atoi(f[1]); err == nil && code >= 100 && code < 700 {
			s.Status = code
		}
		return
	}
	s.Method = strings.ToUpper(f[0])
	s.URIUser = uriUser(f[1])
}

// uriUser is the user part of a SIP URI, alone or in a name-addr.
func uriUser(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	_, rest, ok := strings.Cut(v, ":") // scheme
	if !ok {
		return ""
	}
	user, _, ok := strings.Cut(rest, "@")
	if !ok {
		return ""
	}
	user, _, _ = strings.Cut(user, ";")
	user, _, _ = strings.Cut(user, ":") // password
	return user
}

// viaTransport is "wss" of "SIP/2.0/WSS host;branch=...".
func viaTransport(v string) string {
	sent, _, _ := strings.Cut(strings.TrimSpace(v), " ")
	parts := strings.Split(sent, "/")
	if len(parts) != 3 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(parts[2]))
}
