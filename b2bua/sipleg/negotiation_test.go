package sipleg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/sipserver"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/rtpep"
	"github.com/softswitch/softswitch/media/webrtcep"
)

func TestNegotiationStatus(t *testing.T) {
	tests := []struct {
		err   error
		code  int
		cause leg.Cause
	}{
		{rtpep.ErrNoCommonCodec, 488, leg.Incompatible},
		{fmt.Errorf("answer: %w: peer offers G729", rtpep.ErrNoCommonCodec), 488, leg.Incompatible},
		{fmt.Errorf("answer: %w: x", webrtcep.ErrNegotiation), 500, leg.Failure},
		{fmt.Errorf("answer: %w", rtpep.ErrBadSDP), 488, leg.Incompatible}, // the peer's SDP: its fault, as before
		{fmt.Errorf("answer: %w", media.ErrBadSDP), 488, leg.Incompatible},
		{fmt.Errorf("answer: %w", webrtcep.ErrNoCommonCodec), 488, leg.Incompatible},
		{rtpep.ErrPortsExhausted, 500, leg.Failure},
		{fmt.Errorf("answer: %w", media.ErrClosed), 500, leg.Failure},
		{context.Canceled, 500, leg.Failure},
		{errors.New("anything"), 500, leg.Failure},
	}
	for _, tt := range tests {
		if got := negotiationStatus(tt.err); got != tt.code {
			t.Errorf("negotiationStatus(%v) = %d, want %d", tt.err, got, tt.code)
		}
		if got := negotiationCause(tt.err); got.Name != tt.cause.Name || got.SIP != tt.code {
			t.Errorf("negotiationCause(%v) = %+v, want %s %d", tt.err, got, tt.cause.Name, tt.code)
		}
	}
}

// refusingEP fails every negotiation with err.
type refusingEP struct {
	media.Endpoint // nothing else is called
	err            error
}

func (e refusingEP) Answer(context.Context, []byte) ([]byte, error) { return nil, e.err }

// recordingTx keeps the response a handler sent.
type recordingTx struct {
	sip.ServerTransaction // nothing else is called
	res                   *sip.Response
}

func (tx *recordingTx) Respond(res *sip.Response) error { tx.res = res; return nil }

// A re-INVITE whose SDP cannot be negotiated: 488 with a Warning for no
// common codec, 500 without details for anything else; the session stays.
func TestReinviteRefused(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	srv, err := sipserver.New(sipserver.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	m := &Manager{srv: srv, log: log}
	for _, tt := range []struct {
		err  error
		code int
		warn string
	}{
		{fmt.Errorf("answer: %w: peer offers G729", rtpep.ErrNoCommonCodec), 488, "no common codec: peer offers G729"},
		{fmt.Errorf("answer: %w: pion said no", webrtcep.ErrNegotiation), 500, ""},
	} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "a", Host: "192.0.2.1"})
		cid := sip.CallIDHeader("reinvite-1")
		req.AppendHeader(&cid)
		req.SetBody([]byte("v=0\r\nm=audio 4000 RTP/AVP 18\r\n"))
		tx := &recordingTx{}
		got, took := answerReinvite(m, refusingEP{err: tt.err}, []byte("current"), req, tx, log)
		if string(got) != "current" || took {
			t.Errorf("%v: session became %q (offer taken: %v)", tt.err, got, took)
		}
		if tx.res == nil || tx.res.StatusCode != tt.code {
			t.Fatalf("%v: answered %v, want %d", tt.err, tx.res, tt.code)
		}
		w := tx.res.GetHeader("Warning")
		switch {
		case tt.warn != "" && (w == nil || !strings.Contains(w.Value(), tt.warn)):
			t.Errorf("488 Warning %v lacks %q", w, tt.warn)
		case tt.warn == "" && w != nil:
			t.Errorf("500 tells the peer %q", w.Value())
		}
	}
}

// An answer that a UDP datagram cannot carry is caught before sipgo
// refuses to send it; other transports carry any size.
func TestFitsUDP(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	srv, err := sipserver.New(sipserver.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	m := &Manager{srv: srv, log: log, cfg: Config{Host: "192.0.2.10"}}
	params := func(k, v string) sip.HeaderParams {
		p := sip.NewParams()
		p.Add(k, v)
		return p
	}
	newReq := func(transport string) *sip.Request {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "07010002000", Host: "192.0.2.10"})
		req.AppendHeader(&sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: transport,
			Host: "192.0.2.1", Port: 5060, Params: params("branch", "z9hG4bK-1")})
		req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "a", Host: "192.0.2.1"}, Params: params("tag", "x")})
		req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "07010002000", Host: "192.0.2.10"}})
		cid := sip.CallIDHeader("fits-udp-1")
		req.AppendHeader(&cid)
		req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
		req.SetTransport(transport)
		return req
	}
	small := []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\n")
	large := append(append([]byte{}, small...), strings.Repeat("m=audio 0 RTP/AVP 0\r\n", 60)...)
	for _, tt := range []struct {
		transport string
		sdp       []byte
		want      bool
	}{
		{"UDP", small, true},
		{"UDP", large, false},
		{"TCP", large, true},
		{"TLS", large, true},
	} {
		if got := m.fitsUDP(newReq(tt.transport), tt.sdp); got != tt.want {
			t.Errorf("fitsUDP(%s, %d bytes) = %v; want %v", tt.transport, len(tt.sdp), got, tt.want)
		}
	}
	// At the edge: fitsUDP counts the 200's bytes without building its
	// text; the text itself decides here.
	limit := sip.UDPMTUSize - 200 - udpHeadroom
	fits, refused := 0, 0
	for n := limit - 700; n < limit; n++ {
		sdp := append(append([]byte{}, small...), strings.Repeat("a", n-len(small))...)
		req := newReq("UDP")
		res := sip.NewResponseFromRequest(req, 200, "OK", sdp)
		contact := m.contact("UDP")
		res.AppendHeader(&contact)
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		want := len(res.String()) <= limit
		if got := m.fitsUDP(req, sdp); got != want {
			t.Fatalf("fitsUDP(UDP, %d bytes) = %v; the 200 is %d bytes, limit %d", n, got, len(res.String()), limit)
		}
		if want {
			fits++
		} else {
			refused++
		}
	}
	if fits == 0 || refused == 0 {
		t.Fatalf("the sizes tried did not cross the limit: %d fit, %d refused", fits, refused)
	}
}
