package rtpep

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/softswitch/softswitch/media"
)

// format is one payload type of an m= line with its rtpmap.
type format struct {
	pt       uint8
	name     string // encoding name as written, "" when unknown
	rate     int
	channels int    // from rtpmap, 0 when absent
	fmtp     string // written in our SDP only
}

// remoteMedia is the audio stream we use from a peer's SDP.
type remoteMedia struct {
	index    int        // position of the m= line
	protos   []string   // e.g. RTP/AVP
	port     int        // RTP port, > 0
	addr     netip.Addr // connection address; unspecified means hold
	rtcpPort int
	formats  []format
	dir      sdp.Direction // as the peer wrote it
}

// negotiation is what one offer/answer exchange settled for us.
type negotiation struct {
	codec int   // index into the endpoint's codecSet
	pt    uint8 // the codec's payload type in the peer's SDP (we send it)
	te    int   // the peer's telephone-event payload type, -1 if none
	dest  netip.AddrPort
	rtcp  netip.AddrPort
	dir   sdp.Direction // our direction
}

func (n negotiation) sends() bool {
	return n.dest.IsValid() && (n.dir == sdp.DirectionSendRecv || n.dir == sdp.DirectionSendOnly)
}

func (n negotiation) receives() bool {
	return n.dir == sdp.DirectionSendRecv || n.dir == sdp.DirectionRecvOnly
}

func badSDP(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadSDP}, args...)...)
}

// parseSDP parses a peer's SDP body (media.ParseSDP: bounded, and a
// parser panic is an error).
func parseSDP(body []byte) (*sdp.SessionDescription, error) {
	sd, err := media.ParseSDP(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	return sd, nil
}

// audioStream finds the first RTP/AVP(F) audio stream with a port.
func audioStream(sd *sdp.SessionDescription) (remoteMedia, error) {
	var m remoteMedia
	why := "no audio stream"
	for i, md := range sd.MediaDescriptions {
		if md == nil || md.MediaName.Media != "audio" {
			continue
		}
		proto := strings.Join(md.MediaName.Protos, "/")
		switch {
		case proto != "RTP/AVP" && proto != "RTP/AVPF":
			why = fmt.Sprintf("audio profile %s not supported", proto)
			continue
		case md.MediaName.Port.Value == 0:
			why = "audio stream disabled (port 0)"
			continue
		case md.MediaName.Port.Value < 0 || md.MediaName.Port.Value > 65535:
			return m, badSDP("audio port %d", md.MediaName.Port.Value)
		}
		return parseAudio(sd, md, i)
	}
	return m, fmt.Errorf("%w: %s", ErrNoCommonCodec, why)
}

func parseAudio(sd *sdp.SessionDescription, md *sdp.MediaDescription, index int) (remoteMedia, error) {
	m := remoteMedia{index: index, protos: md.MediaName.Protos, port: md.MediaName.Port.Value}
	var err error
	if m.addr, err = connectionAddr(sd, md); err != nil {
		return m, err
	}
	if m.formats, err = parseFormats(md); err != nil {
		return m, err
	}
	m.dir = media.Direction(sd, md)
	m.rtcpPort = m.port + 1
	if v, ok := md.Attribute("rtcp"); ok {
		f, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		p, err := strconv.Atoi(f)
		if err != nil || p < 1 || p > 65535 {
			return m, badSDP("a=rtcp:%s", v)
		}
		m.rtcpPort = p
	}
	if m.rtcpPort > 65535 {
		m.rtcpPort = m.port
	}
	return m, nil
}

func connectionAddr(sd *sdp.SessionDescription, md *sdp.MediaDescription) (netip.Addr, error) {
	c := md.ConnectionInformation
	if c == nil {
		c = sd.ConnectionInformation
	}
	if c == nil || c.Address == nil {
		return netip.Addr{}, badSDP("no connection address (c=)")
	}
	if c.NetworkType != "IN" || (c.AddressType != "IP4" && c.AddressType != "IP6") {
		return netip.Addr{}, badSDP("connection %s %s not supported", c.NetworkType, c.AddressType)
	}
	a, err := netip.ParseAddr(c.Address.Address)
	if err != nil {
		return netip.Addr{}, badSDP("connection address %q: not an IP address", c.Address.Address)
	}
	a = a.Unmap()
	if a.Is4() != (c.AddressType == "IP4") {
		return netip.Addr{}, badSDP("connection address %s is not %s", a, c.AddressType)
	}
	if a.IsMulticast() {
		return netip.Addr{}, badSDP("multicast connection address %s", a)
	}
	return a, nil
}

func parseFormats(md *sdp.MediaDescription) ([]format, error) {
	if len(md.MediaName.Formats) == 0 {
		return nil, badSDP("m=audio without formats")
	}
	fs := make([]format, 0, len(md.MediaName.Formats))
	for _, s := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(s, 10, 8)
		if err != nil || pt > 127 {
			return nil, badSDP("payload type %q", s)
		}
		name, rate := staticFormat(uint8(pt))
		fs = append(fs, format{pt: uint8(pt), name: name, rate: rate})
	}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		f, err := parseRtpmap(a.Value)
		if err != nil {
			return nil, err
		}
		for i := range fs {
			if fs[i].pt == f.pt {
				fs[i] = f
			}
		}
	}
	return fs, nil
}

// parseRtpmap parses "<pt> <name>/<rate>[/<channels>]".
func parseRtpmap(v string) (format, error) {
	ptStr, enc, ok := strings.Cut(strings.TrimSpace(v), " ")
	p, perr := strconv.ParseUint(ptStr, 10, 8)
	if !ok || perr != nil || p > 127 {
		return format{}, badSDP("a=rtpmap:%s", v)
	}
	name, rest, ok := strings.Cut(strings.TrimSpace(enc), "/")
	rateStr, chStr, hasCh := strings.Cut(rest, "/")
	r, rerr := strconv.Atoi(rateStr)
	if !ok || name == "" || rerr != nil || r <= 0 {
		return format{}, badSDP("a=rtpmap:%s", v)
	}
	f := format{pt: uint8(p), name: name, rate: r}
	if hasCh {
		// A malformed count is not ours to judge: it only fails to match.
		if c, err := strconv.Atoi(strings.TrimSpace(chStr)); err == nil && c > 0 {
			f.channels = c
		} else {
			f.channels = -1
		}
	}
	return f, nil
}

// staticFormat names the RFC 3551 static audio payload types a peer may
// list without rtpmap.
func staticFormat(pt uint8) (string, int) {
	switch pt {
	case 0:
		return "PCMU", g711Clock
	case 3:
		return "GSM", g711Clock
	case 8:
		return "PCMA", g711Clock
	case 9:
		return "G722", g711Clock
	case 18:
		return "G729", g711Clock
	}
	return "", 0
}

// mirror returns our direction for the peer's (RFC 3264 §6.1): a peer
// that only sends makes us only receive, and so on. A peer whose
// connection address is 0.0.0.0 (RFC 2543 hold) cannot receive.
func mirror(peer sdp.Direction, peerHold bool) sdp.Direction {
	if peerHold {
		switch peer {
		case sdp.DirectionSendRecv:
			peer = sdp.DirectionSendOnly
		case sdp.DirectionRecvOnly:
			peer = sdp.DirectionInactive
		}
	}
	switch peer {
	case sdp.DirectionSendOnly:
		return sdp.DirectionRecvOnly
	case sdp.DirectionRecvOnly:
		return sdp.DirectionSendOnly
	case sdp.DirectionInactive:
		return sdp.DirectionInactive
	}
	return sdp.DirectionSendRecv
}

// negotiate picks from the peer's formats the first codec of our
// preference list and the payload type of telephone-event at that
// codec's clock rate (RFC 4733 §2.1: events use the audio clock).
func negotiate(m remoteMedia, set *codecSet) (negotiation, error) {
	n := negotiation{codec: -1, te: -1}
	for i, d := range set.desc {
		for _, f := range m.formats {
			if d.matches(f) {
				n.codec, n.pt = i, f.pt
				break
			}
		}
		if n.codec >= 0 {
			break
		}
	}
	if n.codec < 0 {
		var names []string
		for _, f := range m.formats {
			names = append(names, fmt.Sprintf("%d:%s/%d", f.pt, f.name, f.rate))
		}
		return n, fmt.Errorf("%w: peer offers %s", ErrNoCommonCodec, strings.Join(names, " "))
	}
	clock := int(set.desc[n.codec].clock)
	for _, f := range m.formats {
		if f.rate == clock && strings.EqualFold(f.name, teName) {
			n.te = int(f.pt)
			break
		}
	}
	hold := m.addr.IsUnspecified()
	if !hold {
		n.dest = netip.AddrPortFrom(m.addr, uint16(m.port))
		n.rtcp = netip.AddrPortFrom(m.addr, uint16(m.rtcpPort))
	}
	n.dir = mirror(m.dir, hold)
	return n, nil
}

// codecFormat is codec d in our SDP at payload type pt.
func codecFormat(d codecDesc, pt uint8) format {
	return format{pt: pt, name: d.name, rate: int(d.clock), channels: d.channels, fmtp: d.fmtp}
}

// teFormat is telephone-event at clock in our SDP at payload type pt.
func teFormat(pt uint8, clock uint32) format {
	return format{pt: pt, name: teName, rate: int(clock), fmtp: teFmtp}
}

// localAudio is the audio m= line we write.
type localAudio struct {
	port    int
	protos  []string
	formats []format // codecs in order, then telephone-event if any
	dir     sdp.Direction
}

func (a localAudio) description() *sdp.MediaDescription {
	md := &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media:  "audio",
		Port:   sdp.RangedPort{Value: a.port},
		Protos: a.protos,
	}}
	for _, f := range a.formats {
		pt := strconv.Itoa(int(f.pt))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		rtpmap := fmt.Sprintf("%s %s/%d", pt, f.name, f.rate)
		if f.channels > 0 {
			rtpmap += "/" + strconv.Itoa(f.channels)
		}
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", rtpmap))
	}
	for _, f := range a.formats {
		if f.fmtp != "" {
			md.Attributes = append(md.Attributes, sdp.NewAttribute("fmtp", fmt.Sprintf("%d %s", f.pt, f.fmtp)))
		}
	}
	md.Attributes = append(md.Attributes,
		sdp.NewAttribute("ptime", "20"),
		sdp.NewPropertyAttribute(a.dir.String()))
	return md
}

// rejected returns the answer's m= line for a stream we do not take
// (RFC 3264 §6: same media and proto, port 0).
func rejected(md *sdp.MediaDescription) *sdp.MediaDescription {
	formats := md.MediaName.Formats
	if len(formats) == 0 {
		formats = []string{"0"}
	}
	return &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media:   md.MediaName.Media,
		Port:    sdp.RangedPort{Value: 0},
		Protos:  md.MediaName.Protos,
		Formats: formats,
	}}
}

func marshalSDP(ip netip.Addr, sessID, sessVer uint64, media []*sdp.MediaDescription) ([]byte, error) {
	addrType := "IP4"
	if !ip.Is4() {
		addrType = "IP6"
	}
	sd := &sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "-", SessionID: sessID, SessionVersion: sessVer,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip.String(),
		},
		SessionName: sessionName,
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: ip.String()},
		},
		TimeDescriptions:  []sdp.TimeDescription{{}},
		MediaDescriptions: media,
	}
	b, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal sdp: %w", err)
	}
	return b, nil
}
