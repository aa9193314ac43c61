package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media/dtlssrtp"
	"github.com/softswitch/softswitch/sounds"
)

// The browser side of a transcoded call, emulated with pion's lower layers
// (see ice.go; a PeerConnection per call made the generator the limit): an
// SDP offer in UDP/TLS/RTP/SAVPF (ICE, DTLS-SRTP, rtcp-mux) sent in a SIP
// INVITE over UDP, Opus 48 kHz both ways. It sends packets encoded once at
// start (a 1 s cycle: 200 ms silence, then a 1 kHz tone at 48 kHz, as a
// browser would code it), so the generator spends no CPU on Opus; the
// tone's onset, seen in the PCMU that reaches the phone side, gives the
// latency through the softswitch's transcoder.

const burstFrame = 10 // frames of silence before the tone, in a 50-frame cycle

// opusCycle encodes one second: silence, then a tone.
func opusCycle() ([][]byte, error) {
	enc, err := opus.NewEncoder(opus.Config{Rate: 48000, FEC: true})
	if err != nil {
		return nil, err
	}
	pcm := make([]int16, 960)
	out := make([][]byte, 50)
	buf := make([]byte, 1500)
	k := 0
	for i := range out {
		for j := range pcm {
			pcm[j] = 0
			if i >= burstFrame {
				pcm[j] = int16(12000 * math.Sin(2*math.Pi*1000*float64(k)/48000))
			}
			k++
		}
		n, err := enc.Encode(buf, pcm)
		if err != nil {
			return nil, err
		}
		out[i] = append([]byte(nil), buf[:n]...)
	}
	return out, nil
}

// browser is one emulated browser leg: one UDP socket, its ICE and DTLS
// state, and the SRTP contexts once DTLS is up. The pacer's goroutine
// sends for every browser (sendFrame); one goroutine per browser receives.
type browser struct {
	sock    *udpSock
	poll    *poller
	cert    *benchCert
	ice     iceState
	pipe    *dtlssrtp.Pipe
	dtls    *dtls.Conn
	ssrc    uint32
	packets [][]byte
	out     *counters
	in      *counters
	burst   atomic.Int64 // unix ns of the last tone onset sent
	// peerBurst is the phone's speech onset; what the browser receives is
	// decoded (8 kHz, cheap) only to find that onset.
	peerBurst *atomic.Int64
	dec       *opus.Decoder

	// Sending, on the pacer's goroutine only (set before the pacer has it).
	tx     *srtp.Context
	remote *sockaddr4
	hdr    rtp.Header // scratch for EncryptRTP
	seq    uint16
	ts     uint32
	plain  []byte
	enc    []byte
	ctr    int

	rx atomic.Pointer[srtp.Context] // receiving, once DTLS is up
	// Receiving scratch, on the poller's goroutine only.
	rplain []byte
	rpcm   []int16
	rhdr   rtp.Header
	ronset onset
}

// keepaliveFrames: a binding request every 2.5 s, as browsers keep ICE
// consent; it also keeps the pair alive on a full-ICE peer.
const keepaliveFrames = 125

func newBrowser(poll *poller, cert *benchCert, packets [][]byte, out, in *counters) (*browser, error) {
	sock, err := openUDP()
	if err != nil {
		return nil, fmt.Errorf("browser socket: %w", err)
	}
	dec, err := opus.NewDecoder(opus.Config{Rate: 8000})
	if err != nil {
		sock.close()
		return nil, fmt.Errorf("opus decoder: %w", err)
	}
	b := &browser{sock: sock, poll: poll, cert: cert, packets: packets, out: out, in: in, dec: dec,
		plain: make([]byte, 1500), enc: make([]byte, 1500), rplain: make([]byte, 1500), rpcm: make([]int16, 160)}
	b.ice = iceState{ufrag: randHex(8), pwd: randHex(16), tieBreaker: randUint64(), selected: make(chan netip.AddrPort, 1)}
	b.ssrc = uint32(randUint64())
	b.seq, b.ts = uint16(randUint64()), uint32(randUint64())
	b.pipe = dtlssrtp.NewPipe(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sock.port},
		func(pkt []byte, to netip.AddrPort) error { return sock.sendTo(pkt, newSockaddr4(to)) })
	if err := poll.add(sock, b); err != nil {
		sock.close()
		return nil, err
	}
	return b, nil
}

func randUint64() uint64 {
	var v [8]byte
	_, _ = rand.Read(v[:])
	return binary.BigEndian.Uint64(v[:])
}

// offer returns the complete (non-trickle) SDP offer, as a browser makes
// it: ICE with one host candidate, DTLS actpass, rtcp-mux, BUNDLE, Opus.
func (b *browser) offer(context.Context) ([]byte, error) {
	port := b.sock.port
	sess := randUint64() >> 2
	return []byte(fmt.Sprintf("v=0\r\n"+
		"o=- %d 2 IN IP4 127.0.0.1\r\n"+
		"s=-\r\n"+
		"t=0 0\r\n"+
		"a=group:BUNDLE 0\r\n"+
		"a=msid-semantic: WMS bench\r\n"+
		"m=audio %d UDP/TLS/RTP/SAVPF 111\r\n"+
		"c=IN IP4 127.0.0.1\r\n"+
		"a=rtcp:%d IN IP4 127.0.0.1\r\n"+
		"a=candidate:1 1 udp 2130706431 127.0.0.1 %d typ host\r\n"+
		"a=end-of-candidates\r\n"+
		"a=ice-ufrag:%s\r\n"+
		"a=ice-pwd:%s\r\n"+
		"a=fingerprint:sha-256 %s\r\n"+
		"a=setup:actpass\r\n"+
		"a=mid:0\r\n"+
		"a=sendrecv\r\n"+
		"a=msid:bench audio\r\n"+
		"a=rtcp-mux\r\n"+
		"a=rtpmap:111 opus/48000/2\r\n"+
		"a=fmtp:111 minptime=10;useinbandfec=1\r\n"+
		"a=ssrc:%d cname:bench\r\n"+
		"a=ssrc:%d msid:bench audio\r\n",
		sess, port, port, port, b.ice.ufrag, b.ice.pwd, b.cert.Fingerprint, b.ssrc, b.ssrc)), nil
}

// accept applies the answer: ICE (nominating checks until one succeeds),
// then the DTLS handshake and the SRTP keys, each bounded in time.
func (b *browser) accept(ctx context.Context, answer []byte) error {
	r, err := parseAnswer(answer)
	if err != nil {
		return err
	}
	b.ice.mu.Lock()
	b.ice.remote = r
	b.ice.mu.Unlock()
	var from netip.AddrPort
	to := newSockaddr4(udpAddrPort(r.addr))
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		if i == 200 {
			return fmt.Errorf("ICE: no answer to 200 binding requests to %v", r.addr)
		}
		req, err := b.ice.bindingRequest()
		if err != nil {
			return err
		}
		if err := b.sock.sendTo(req, to); err != nil {
			return fmt.Errorf("ICE: %w", err)
		}
		select {
		case from = <-b.ice.selected:
		case <-tick.C:
			continue
		case <-ctx.Done():
			return ctx.Err()
		}
		break
	}
	b.pipe.SetPeer(from)
	remote := net.UDPAddrFromAddrPort(from)
	cfg := dtlsConfig(b.cert, r.fingerprint)
	isClient := r.setup == "passive"
	if isClient {
		b.dtls, err = dtls.Client(b.pipe, remote, cfg)
	} else {
		b.dtls, err = dtls.Server(b.pipe, remote, cfg)
	}
	if err != nil {
		return fmt.Errorf("dtls: %w", err)
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := b.dtls.HandshakeContext(hctx); err != nil {
		return fmt.Errorf("dtls handshake: %w", err)
	}
	tx, rx, err := srtpContexts(b.dtls, isClient)
	if err != nil {
		return err
	}
	b.tx, b.remote = tx, newSockaddr4(from)
	b.rx.Store(rx)
	return nil
}

// srtpContexts derives the two SRTP contexts from the DTLS session.
func srtpContexts(c *dtls.Conn, isClient bool) (tx, rx *srtp.Context, err error) {
	return dtlssrtp.Contexts(c, isClient)
}

// sendFrame encrypts the next pre-encoded Opus packet and sends it; it
// runs on the pacer's goroutine and allocates nothing.
func (b *browser) sendFrame() {
	if b.tx == nil {
		return
	}
	i := b.ctr % len(b.packets)
	if i == burstFrame {
		b.burst.Store(time.Now().UnixNano())
	}
	b.ctr++
	if b.ctr%keepaliveFrames == 0 {
		if req, err := b.ice.bindingRequest(); err == nil {
			_ = b.sock.sendTo(req, b.remote)
		}
	}
	p := b.packets[i]
	plain := b.plain[:rtpHdrLen+len(p)]
	plain[0], plain[1] = 0x80, 111
	binary.BigEndian.PutUint16(plain[2:], b.seq)
	binary.BigEndian.PutUint32(plain[4:], b.ts)
	binary.BigEndian.PutUint32(plain[8:], b.ssrc)
	copy(plain[rtpHdrLen:], p)
	b.seq++
	b.ts += 960
	out, err := b.tx.EncryptRTP(b.enc[:0], plain, &b.hdr)
	if err != nil {
		return
	}
	if b.sock.sendTo(out, b.remote) == nil {
		b.out.sent.Add(1)
	}
}

// receive demultiplexes what arrives (RFC 7983): STUN to ICE, DTLS to the
// handshake, SRTP decrypted into a reused buffer; RTCP is ignored. It runs
// on the poller's goroutine.
func (b *browser) receive(pkt []byte, from *sockaddr4, at int64) {
	if len(pkt) < 2 {
		return
	}
	switch c := pkt[0]; {
	case c < 4:
		if resp := b.ice.handleSTUN(pkt, from.addrPort()); resp != nil {
			_ = b.sock.sendTo(resp, from)
		}
	case c >= 20 && c < 64:
		b.pipe.Deliver(pkt)
	case c >= 128 && c < 192:
		b.receiveRTP(pkt, at, b.rplain, b.rpcm, &b.rhdr, &b.ronset)
	}
}

// receiveRTP decrypts one SRTP packet into plain, counts it and looks for
// the peer's speech onset in it; it allocates nothing.
func (b *browser) receiveRTP(pkt []byte, at int64, plain []byte, pcm []int16, hdr *rtp.Header, o *onset) {
	if pkt[1] >= 192 && pkt[1] <= 223 {
		return // RTCP
	}
	rx := b.rx.Load()
	if rx == nil {
		return
	}
	dec, err := rx.DecryptRTP(plain, pkt, hdr)
	if err != nil || hdr.PayloadType != 111 {
		return
	}
	b.in.recv.Add(1)
	if b.peerBurst == nil {
		return
	}
	if o.skip > 0 {
		o.skip-- // inside the peer's speech: no onset to find, no decoding
		return
	}
	if off := hdr.MarshalSize(); off < len(dec) {
		if k, err := b.dec.Decode(pcm, dec[off:]); err == nil && o.observe(pcm[:k], at, b.peerBurst, &b.in.lat) {
			o.skip = onsetSkip
		}
	}
}

func (b *browser) close() {
	if b.dtls != nil {
		_ = b.dtls.Close() // close_notify, then the pipe
	}
	_ = b.pipe.Close()
	b.poll.remove(b.sock)
	b.sock.close()
}

// speechCycle is what the desk phone says, in µ-law 20 ms packets: a
// 50-frame cycle of 200 ms silence, then 800 ms of the test audio's speech
// from its first loud frame (the softswitch encodes it to Opus; its onset
// gives the latency towards the browser).
func speechCycle() ([][]byte, error) {
	p, err := sounds.Load("test-audio")
	if err != nil {
		return nil, err
	}
	step := p.Rate / 8000
	var frames [][]int16
	for i := 0; (i+160)*step <= len(p.PCM); i += 160 {
		f := make([]int16, 160)
		for j := range f {
			f[j] = p.PCM[(i+j)*step]
		}
		frames = append(frames, f)
	}
	first := -1
	for i, f := range frames {
		var sum int64
		for _, v := range f {
			sum += int64(max(v, -v))
		}
		if sum/160 > 3000 {
			first = i
			break
		}
	}
	if first < 0 || first+50-burstFrame > len(frames) {
		return nil, errors.New("test audio: no loud speech to use")
	}
	out := make([][]byte, 50)
	for i := range out {
		out[i] = make([]byte, 160)
		if i < burstFrame {
			for j := range out[i] {
				out[i][j] = 0xff // µ-law zero
			}
			continue
		}
		g711.EncodeULaw(out[i], frames[first+i-burstFrame])
	}
	return out, nil
}
