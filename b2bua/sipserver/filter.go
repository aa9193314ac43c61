package sipserver

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/ratelog"
	"github.com/softswitch/softswitch/b2bua/sourcekey"
)

// filter sees every datagram (UDP) and every WebSocket message before
// sipgo parses it. A message that does not parse, or is too large, is
// answered with a stateless 400/513 when it is a request we can answer, and
// dropped; sipgo never sees it, so a bad WebSocket frame does not close the
// connection (and its registration) with it. Stream transports (TCP/TLS) are
// left to sipgo's stream parser: a framing error there leaves no message
// boundary to resync on, so it closes the connection.
type filter struct {
	maxSize int
	srv     *Server
	parser  *sip.Parser
	log     *slog.Logger
	bufs    sync.Pool // of *bytes.Buffer: stateless answers are written into one
}

func newFilter(maxSize int, srv *Server, log *slog.Logger) *filter {
	f := &filter{maxSize: maxSize, srv: srv, parser: sip.NewParser(), log: log}
	f.bufs.New = func() any { return new(bytes.Buffer) }
	return f
}

func (f *filter) read(p sip.TransportReadProps, data []byte) ([]byte, error) {
	network := sip.NetworkToLower(p.Transport)
	if network == "tcp" || network == "tls" {
		if len(data) > 0 && data[0] != '\r' && data[0] != '\n' && !looksLikeText(data) {
			f.noteBad(addrString(p.RemoteAddr), "binary data on stream transport")
			return nil, errBinary // closes the connection: there is no way to resync
		}
		return data, nil
	}
	if len(bytes.Trim(data, "\r\n")) == 0 {
		return data, nil // keep-alive, handled by sipgo
	}
	if len(data) > f.maxSize {
		f.reject(p, data, 513, "Message Too Large", "message exceeds "+strconv.Itoa(f.maxSize)+" bytes")
		return nil, nil
	}
	if !looksLikeText(data) {
		f.noteBad(addrString(p.RemoteAddr), "binary data")
		return nil, nil
	}
	msg, err := f.parser.ParseSIP(data)
	if err != nil {
		f.reject(p, data, 400, "Bad Request", "unparseable message: "+ratelog.Truncate(err.Error(), ratelog.MaxValue))
		return nil, nil
	}
	if req, ok := msg.(*sip.Request); ok {
		if code, reason := check(req); reason != "" {
			f.reject(p, data, code, statusText(code), reason)
			return nil, nil
		}
		if f.stateless(p, req) {
			return nil, nil
		}
	}
	return data, nil
}

// stateless answers, without a transaction, the requests that need no
// state on a message transport (UDP, WebSocket): an out-of-dialog OPTIONS
// (a UDP transaction would linger 32 s per ping), an INVITE or REGISTER
// over its source's rate limit, and what the server's stateless hook
// answers (a REGISTER's challenge). It reports whether it answered.
func (f *filter) stateless(p sip.TransportReadProps, req *sip.Request) bool {
	req.SetSource(addrString(p.RemoteAddr))
	req.SetTransport(p.Transport)
	res := f.statelessResponse(req)
	if res == nil {
		return false
	}
	res.SipVersion = "SIP/2.0"
	res.AppendHeader(sip.NewHeader("Server", f.srv.cfg.UserAgent))
	buf := f.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	res.StringWrite(buf)
	f.send(p, req.Source(), buf.Bytes()) // written (and traced) before it returns
	f.bufs.Put(buf)
	return true
}

func (f *filter) statelessResponse(req *sip.Request) *sip.Response {
	switch {
	case req.Method == sip.OPTIONS && !inDialog(req) && unsupported(req) != "":
		res := sip.NewResponseFromRequest(req, 420, "Bad Extension", nil)
		res.AppendHeader(sip.NewHeader("Unsupported", unsupported(req)))
		return res
	case req.Method == sip.OPTIONS && !inDialog(req):
		return f.srv.optionsResponse(req)
	}
	if f.srv.limiter.applies(req) {
		if ok, wait := f.srv.limiter.allow(sourcekey.Host(req.Source()), req.Method, requestID(req)); !ok {
			res := sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
			res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(wait)))
			return res
		}
	}
	return f.srv.statelessAnswer(req)
}

type filterError string

func (e filterError) Error() string { return string(e) }

const errBinary = filterError("binary data on a SIP stream")

// reject logs (rate-limited per source) and answers a request statelessly.
func (f *filter) reject(p sip.TransportReadProps, data []byte, code int, reason, why string) {
	remote := addrString(p.RemoteAddr)
	f.noteBad(remote, why)
	if res := rawResponse(data, code, reason, why); res != nil {
		f.send(p, remote, res)
	}
}

// send writes a stateless response back to where p came from;
// remote is p.RemoteAddr as a string.
func (f *filter) send(p sip.TransportReadProps, remote string, res []byte) {
	network := sip.NetworkToLower(p.Transport)
	switch network {
	case "udp":
		local := addrString(p.LocalAddr)
		if c := f.srv.udpConn(local); c != nil {
			if _, err := c.WriteTo(res, p.RemoteAddr); err == nil {
				f.srv.traceSent(network, local, remote, res)
			}
		}
	case "ws", "wss":
		conn, err := f.srv.TransportLayer().GetConnection(network, remote)
		if err != nil {
			return
		}
		defer func() { _, _ = conn.TryClose() }()
		if w, ok := conn.(io.Writer); ok {
			_, _ = w.Write(res)
		}
	}
}

// noteBad logs bad input from a source at most once a minute, truncated,
// with the number of lines left out since the last one.
func (f *filter) noteBad(remote, why string) {
	host := sourcekey.Host(remote)
	f.srv.notes.Warn(f.log, "bad input", host, "bad SIP input", "source", remote, "reason", why)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// looksLikeText reports whether the start of a message is printable text,
// as every SIP start line and header section is.
func looksLikeText(data []byte) bool {
	n := min(len(data), 256)
	for _, b := range data[:n] {
		if b < 0x20 && b != '\r' && b != '\n' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}
