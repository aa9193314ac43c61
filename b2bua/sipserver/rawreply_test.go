package sipserver

import (
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestRawResponse(t *testing.T) {
	via := "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
	tests := []struct {
		name string
		in   string
		want []string // substrings; nil means no response
	}{
		{"request", "OPTIONS sip:x SIP/2.0\r\n" + via + "From: <sip:a@b>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nX-Other: y\r\n\r\n",
			[]string{"SIP/2.0 400 Bad Request\r\n", via, "From: <sip:a@b>;tag=1\r\n", "Call-ID: c1\r\n", "CSeq: 1 OPTIONS\r\n", `Warning: 399 softswitch "why 'quoted'"`, "Content-Length: 0\r\n\r\n"}},
		{"compact headers", "OPTIONS sip:x SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK2\r\ni: c2\r\n\r\n", []string{"v: SIP/2.0/UDP h", "i: c2"}},
		{"bare LF", "OPTIONS sip:x SIP/2.0\n" + strings.TrimSuffix(via, "\r\n") + "\n\n", []string{"Via: SIP/2.0/UDP 10.0.0.1"}},
		{"response", "SIP/2.0 200 OK\r\n" + via + "\r\n", nil},
		{"ACK", "ACK sip:x SIP/2.0\r\n" + via + "\r\n", nil},
		{"no Via", "OPTIONS sip:x SIP/2.0\r\nCall-ID: c\r\n\r\n", nil},
		{"empty", "", nil},
		{"header injection stripped", "OPTIONS sip:x SIP/2.0\r\n" + via + "Call-ID: a\x00b\x1bc\r\n\r\n", []string{"Call-ID: abc\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rawResponse([]byte(tt.in), 400, "Bad Request", `why "quoted"`)
			if tt.want == nil {
				if got != nil {
					t.Fatalf("answered:\n%s", got)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(string(got), w) {
					t.Fatalf("missing %q in:\n%s", w, got)
				}
			}
			if strings.Contains(string(got), "X-Other") {
				t.Fatalf("copied an unrelated header:\n%s", got)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	full := "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	tests := []struct {
		name, msg, want string
	}{
		{"complete", full, ""},
		{"no To", strings.Replace(full, "To: <sip:b@h>\r\n", "", 1), "missing To header"},
		{"no Call-ID", strings.Replace(full, "Call-ID: c\r\n", "", 1), "missing Call-ID header"},
		{"cseq mismatch", strings.Replace(full, "1 OPTIONS", "1 BYE", 1), "CSeq method BYE does not match OPTIONS"},
		{"Via without transport", strings.Replace(full, "Via: SIP/2.0/UDP h", "Via: // ", 1), "malformed Via header"},
		{"odd version", strings.Replace(full, "SIP/2.0\r\nVia", "SIP\r\nVia", 1), `malformed SIP version "SIP"`},
		{"other version (RFC 4475 badvers)", strings.Replace(full, "SIP/2.0\r\nVia", "SIP/7.0\r\nVia", 1), `unsupported SIP version "SIP/7.0"`},
		{"two Content-Length (RFC 4475 mcl01)", strings.Replace(full, "Content-Length: 0\r\n", "Content-Length: 0\r\nl: 0\r\n", 1), "more than one Content-Length header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := sip.ParseMessage([]byte(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			if got := validate(msg.(*sip.Request)); got != tt.want {
				t.Fatalf("validate = %q, want %q", got, tt.want)
			}
		})
	}
}

// newTestFilter returns a filter on a server without sockets: replies
// find no UDP socket to go out on and are dropped.
func newTestFilter(t testing.TB) *filter {
	s, err := New(Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s.filter
}

func TestFilter(t *testing.T) {
	f := newTestFilter(t)
	props := sip.TransportReadProps{Transport: "UDP", LocalAddr: &net.UDPAddr{}, RemoteAddr: &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5060}}
	good := "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	tests := []struct {
		name string
		in   string
		pass bool
	}{
		{"good", strings.Replace(good, "To: <sip:b@h>", "To: <sip:b@h>;tag=2", 1), true},
		{"out-of-dialog OPTIONS answered here", good, false},
		{"keepalive", "\r\n\r\n", true},
		{"garbage", "garbage", false},
		{"binary", "\x00\x01\x02", false},
		{"missing header", strings.Replace(good, "Call-ID: c\r\n", "", 1), false},
		{"too big", good[:len(good)-2] + "X: " + strings.Repeat("a", 17000) + "\r\n\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.read(props, []byte(tt.in))
			if err != nil {
				t.Fatalf("error on a datagram transport: %v", err)
			}
			if (len(out) > 0) != tt.pass {
				t.Fatalf("passed = %v, want %v", len(out) > 0, tt.pass)
			}
		})
	}
	tcp := props
	tcp.Transport = "TCP"
	if _, err := f.read(tcp, []byte("\x00\x01binary")); err == nil {
		t.Fatal("binary data on TCP passed; the connection must close")
	}
	if out, err := f.read(tcp, []byte("partial line of a stream")); err != nil || len(out) == 0 {
		t.Fatal("stream text must pass through to sipgo's stream parser")
	}
}
