package main

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// sipMsg is a parsed SIP message: just what the load generator needs.
type sipMsg struct {
	method  string // requests
	ruri    string
	status  int // responses
	headers map[string][]string
	body    []byte
}

var compact = map[string]string{"i": "call-id", "f": "from", "t": "to", "v": "via", "m": "contact", "l": "content-length", "c": "content-type"}

func parseSIP(b []byte) (*sipMsg, error) {
	head, body, ok := bytes.Cut(b, []byte("\r\n\r\n"))
	if !ok {
		return nil, fmt.Errorf("no header end")
	}
	lines := strings.Split(string(head), "\r\n")
	m := &sipMsg{headers: map[string][]string{}, body: body}
	first := strings.SplitN(lines[0], " ", 3)
	if len(first) < 3 {
		return nil, fmt.Errorf("bad first line %q", lines[0])
	}
	if first[0] == "SIP/2.0" {
		m.status, _ = strconv.Atoi(first[1])
	} else {
		m.method, m.ruri = first[0], first[1]
	}
	for _, l := range lines[1:] {
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if full, ok := compact[name]; ok {
			name = full
		}
		m.headers[name] = append(m.headers[name], strings.TrimSpace(val))
	}
	return m, nil
}

func (m *sipMsg) get(name string) string {
	if v := m.headers[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (m *sipMsg) callID() string { return m.get("call-id") }

// cseqMethod returns the method of the CSeq header.
func (m *sipMsg) cseqMethod() string {
	f := strings.Fields(m.get("cseq"))
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// contactURI returns the URI inside the first Contact header.
func (m *sipMsg) contactURI() string {
	c := m.get("contact")
	if i := strings.IndexByte(c, '<'); i >= 0 {
		if j := strings.IndexByte(c[i:], '>'); j > 0 {
			return c[i+1 : i+j]
		}
	}
	return strings.TrimSpace(strings.Split(c, ";")[0])
}

// response builds a response to this request, copying the dialog headers.
func (m *sipMsg) response(status int, reason, toTag, extra string, body []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", status, reason)
	for _, v := range m.headers["via"] {
		fmt.Fprintf(&b, "Via: %s\r\n", v)
	}
	for _, v := range m.headers["record-route"] {
		fmt.Fprintf(&b, "Record-Route: %s\r\n", v)
	}
	to := m.get("to")
	if toTag != "" && !strings.Contains(to, "tag=") {
		to += ";tag=" + toTag
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n%s", m.get("from"), to, m.callID(), m.get("cseq"), extra)
	if len(body) > 0 {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	return append([]byte(b.String()), body...)
}

// sdpAudio returns the connection address and port of the first audio
// m-line of a plain SDP.
func sdpAudio(body []byte) (string, int, error) {
	var ip string
	var port int
	for _, l := range strings.Split(string(body), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "c=IN IP4 ") {
			ip = strings.TrimPrefix(l, "c=IN IP4 ")
		}
		if strings.HasPrefix(l, "m=audio ") && port == 0 {
			port, _ = strconv.Atoi(strings.Fields(l)[1])
		}
	}
	if ip == "" || port == 0 {
		return "", 0, fmt.Errorf("no audio address in SDP:\n%s", body)
	}
	return ip, port, nil
}

// pcmuSDP is a lean desk-phone SDP for one port.
func pcmuSDP(port int) []byte {
	return []byte(fmt.Sprintf("v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n", port))
}
