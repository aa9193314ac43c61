package sipleg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/ratelog"
	"github.com/softswitch/softswitch/b2bua/sipserver"
	"github.com/softswitch/softswitch/b2bua/sourcekey"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/media"
)

// Authenticator challenges requests (407) and returns the extension.
type Authenticator interface {
	Authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, proxy bool) (store.User, bool)
	// Challenge is Authenticate's answer to a request without
	// credentials (a 407 here), or nil when it has some.
	Challenge(req *sip.Request, proxy bool) *sip.Response
}

// Locator returns the live registrations of an extension.
type Locator interface {
	Lookup(ext string) []store.Binding
	// Registered tells whether any live binding came from host (an IP).
	Registered(host string) bool
}

// Users tells whether an extension exists.
type Users interface {
	User(ctx context.Context, ext string) (store.User, error)
}

// MediaKind is the media profile of a leg, which follows from its peer:
// a browser (WebSocket transport, or an SDP offer whose audio is
// UDP/TLS/RTP/SAVPF) gets WebRTC, everything else plain RTP.
type MediaKind int

const (
	MediaRTP MediaKind = iota
	MediaWebRTC
)

func (k MediaKind) String() string {
	if k == MediaWebRTC {
		return "webrtc"
	}
	return "rtp"
}

// MediaSpec is what a new leg's media endpoint must do.
type MediaSpec struct {
	Kind MediaKind
	// Codecs limits plain RTP to these codecs, in preference order (a
	// trunk's codec list); nil means the endpoint's defaults.
	Codecs []string
	// CallID and Leg ("a", "b") name the call for the endpoint's logs.
	CallID, Leg string
	// Signal is the host the leg's SIP comes from (invalid when it is a
	// name): RTP from it is preferred while a NAT'd peer's source is
	// learned.
	Signal netip.Addr
}

// signalAddr is the address of a "host:port", invalid when host is a name.
func signalAddr(hostport string) netip.Addr {
	a, err := netip.ParseAddr(sourcekey.Host(hostport))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// MediaFactory creates the media endpoint of a new leg.
type MediaFactory func(ctx context.Context, spec MediaSpec) (media.Endpoint, error)

// errUnusableOffer is wrapped by kindForOffer's errors: the offer has no
// audio stream we could answer (unparseable, no audio, an unknown profile).
var errUnusableOffer = errors.New("unusable SDP offer")

// kindForOffer picks the profile answering an offer from the transport
// protocol of its first audio m= line: DTLS-SRTP (UDP/TLS/RTP/SAVPF as
// browsers offer, or UDP/TLS/RTP/SAVP) is WebRTC; RTP/AVP, RTP/AVPF and
// RTP/SAVP are plain RTP. Anything else, and an SDP that does not parse,
// is an error wrapping errUnusableOffer.
func kindForOffer(body []byte) (MediaKind, error) {
	sd, err := media.ParseSDP(body) // bounded, and a parser panic is an error
	if err != nil {
		return MediaRTP, fmt.Errorf("%w: %w", errUnusableOffer, err)
	}
	for _, md := range sd.MediaDescriptions {
		if md == nil || md.MediaName.Media != "audio" {
			continue
		}
		proto := strings.Join(md.MediaName.Protos, "/")
		switch strings.ToUpper(proto) {
		case "UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVP":
			return MediaWebRTC, nil
		case "RTP/AVP", "RTP/AVPF", "RTP/SAVP":
			return MediaRTP, nil
		}
		return MediaRTP, fmt.Errorf("%w: audio profile %q not supported", errUnusableOffer, proto)
	}
	return MediaRTP, fmt.Errorf("%w: no audio stream", errUnusableOffer)
}

// kindForTransport picks the profile of an offer we make to a contact.
func kindForTransport(transport string) MediaKind {
	switch strings.ToLower(transport) {
	case "ws", "wss":
		return MediaWebRTC
	}
	return MediaRTP
}

// Handler runs an inbound call; it returns when the call is over.
type Handler func(ctx context.Context, in leg.Leg, info leg.CallInfo)

// Config configures a Manager.
type Config struct {
	Host string // address in our Contact headers (the media IP, or the SIP listen IP)
	// AnonymousDestinations may be called without authentication (e.g. the
	// test number). Everything else needs an authenticated extension.
	AnonymousDestinations []string
}

// dialog is what in-dialog requests are routed to, by Call-ID.
type dialog interface {
	onBye(req *sip.Request, tx sip.ServerTransaction)
	onAck(req *sip.Request, tx sip.ServerTransaction)
	onReinvite(req *sip.Request, tx sip.ServerTransaction)
	onInfo(req *sip.Request, tx sip.ServerTransaction)
	onRefer(req *sip.Request, tx sip.ServerTransaction)
	onConnection(transport, remote string) bool
	connectionLost()
}

// Manager owns SIP legs: it handles INVITE and in-dialog requests and
// dials outbound legs.
type Manager struct {
	cfg     Config
	srv     *sipserver.Server
	client  *sipgo.Client
	auth    Authenticator
	loc     Locator
	users   Users
	newEP   MediaFactory
	log     *slog.Logger
	handler Handler
	trunks  Trunks
	// onBranch, when set, learns each outbound leg's Call-ID before its
	// INVITE is sent (the call's story links its legs by it).
	onBranch func(callID, branchCallID string)

	refused *ratelog.Event // INVITEs from neither an extension nor a trunk
	fraud   *ratelog.Event // unauthenticated calls routed to a trunk

	mu      sync.Mutex
	dialogs map[string]dialog // by Call-ID
	wg      sync.WaitGroup
}

// New wires a Manager into srv's request handlers.
func New(cfg Config, srv *sipserver.Server, auth Authenticator, loc Locator, users Users, newEP MediaFactory, log *slog.Logger) (*Manager, error) {
	client, err := sipgo.NewClient(srv.UA(), sipgo.WithClientHostname(cfg.Host), sipgo.WithClientLogger(log))
	if err != nil {
		return nil, fmt.Errorf("sip client: %w", err)
	}
	m := &Manager{cfg: cfg, srv: srv, client: client, auth: auth, loc: loc, users: users, newEP: newEP, log: log,
		dialogs: make(map[string]dialog),
		refused: newSourceLog(log, "call refused: not from an extension or a trunk"),
		fraud:   newSourceLog(log, "call to an external target refused: the caller is not authenticated")}
	srv.Handle(sip.INVITE, m.onInvite)
	srv.Handle(sip.ACK, m.inDialog(func(d dialog, req *sip.Request, tx sip.ServerTransaction) { d.onAck(req, tx) }))
	srv.Handle(sip.BYE, m.inDialog(func(d dialog, req *sip.Request, tx sip.ServerTransaction) { d.onBye(req, tx) }))
	srv.Handle(sip.INFO, m.inDialog(func(d dialog, req *sip.Request, tx sip.ServerTransaction) { d.onInfo(req, tx) }))
	srv.Handle(sip.UPDATE, m.inDialog(func(d dialog, req *sip.Request, tx sip.ServerTransaction) { d.onReinvite(req, tx) }))
	srv.Handle(sip.REFER, m.inDialog(func(d dialog, req *sip.Request, tx sip.ServerTransaction) { d.onRefer(req, tx) }))
	srv.OnConnClose(m.connClosed)
	srv.Handle(sip.CANCEL, func(req *sip.Request, tx sip.ServerTransaction) {
		// sipgo answers a CANCEL that matches a pending INVITE itself.
		srv.Reply(req, tx, 481, "Call/Transaction Does Not Exist")
	})
	return m, nil
}

// Client is the SIP client legs are dialed with (trunks use it too).
func (m *Manager) Client() *sipgo.Client { return m.client }

// FromListener makes an outgoing UDP request leave from our listening
// socket (see sipserver.Server.UDPAddr); other transports are untouched.
func (m *Manager) FromListener(req *sip.Request) {
	if !strings.EqualFold(req.Transport(), "udp") {
		return
	}
	if a, ok := m.srv.UDPAddr(); ok {
		req.Laddr = a
	}
}

// Contact is our Contact header for transport (no user part).
func (m *Manager) Contact(transport string) sip.ContactHeader { return m.contact(transport) }

// SetHandler sets who runs inbound calls.
func (m *Manager) SetHandler(h Handler) { m.handler = h }

// SetBranchHook sets f to learn the Call-ID of each leg B dialled for a
// call (call_id), before its INVITE is sent. Call it before serving calls.
func (m *Manager) SetBranchHook(f func(callID, branchCallID string)) { m.onBranch = f }

// Wait waits for the goroutines of ended legs.
func (m *Manager) Wait() { m.wg.Wait() }

func (m *Manager) addDialog(callID string, d dialog) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dialogs[callID] = d
}

func (m *Manager) delDialog(callID string, d dialog) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dialogs[callID] == d {
		delete(m.dialogs, callID)
	}
}

func (m *Manager) dialog(callID string) dialog {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dialogs[callID]
}

// inDialog routes a request to its dialog, or answers 481.
func (m *Manager) inDialog(f func(dialog, *sip.Request, sip.ServerTransaction)) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		d := m.dialog(req.CallID().Value())
		if d == nil {
			if !req.IsAck() {
				m.srv.Reply(req, tx, 481, "Call/Transaction Does Not Exist")
			}
			return
		}
		f(d, req, tx)
	}
}

// connClosed ends the legs whose peer was on a connection that closed (a
// browser's WebSocket dropped): the other leg gets a BYE from the call.
func (m *Manager) connClosed(transport, remote string) {
	m.mu.Lock()
	var gone []dialog
	for _, d := range m.dialogs {
		if d.onConnection(transport, remote) {
			gone = append(gone, d)
		}
	}
	m.mu.Unlock()
	for _, d := range gone {
		d.connectionLost()
	}
}

// contact is our Contact header for requests and responses on transport.
func (m *Manager) contact(transport string) sip.ContactHeader {
	t := strings.ToLower(transport)
	port := m.srv.TransportLayer().GetListenPort(t)
	uri := sip.Uri{Scheme: "sip", User: "softswitch", Host: m.cfg.Host, Port: port}
	if t != "udp" {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", t)
	}
	return sip.ContactHeader{Address: uri}
}

func (m *Manager) anonymousAllowed(dest string) bool {
	for _, d := range m.cfg.AnonymousDestinations {
		if d == dest {
			return true
		}
	}
	return false
}

func itoa(n int) string { return strconv.Itoa(n) }
