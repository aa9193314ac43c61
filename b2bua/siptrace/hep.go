package siptrace

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
)

// HEPConfig says where HEP v3 packets go.
type HEPConfig struct {
	Address  string `yaml:"address"`  // HOST:PORT of the capture server (UDP)
	ID       uint32 `yaml:"id"`       // capture agent id
	Password string `yaml:"password"` // auth key, sent in clear as HEP does
}

// HEP v3 chunk types (vendor 0, generic chunks).
const (
	hepFamily   = 0x01
	hepProto    = 0x02
	hepSrcIP4   = 0x03
	hepDstIP4   = 0x04
	hepSrcIP6   = 0x05
	hepDstIP6   = 0x06
	hepSrcPort  = 0x07
	hepDstPort  = 0x08
	hepTimeSec  = 0x09
	hepTimeUsec = 0x0a
	hepProtoTyp = 0x0b
	hepAgentID  = 0x0c
	hepAuthKey  = 0x0e
	hepPayload  = 0x0f
	hepCorrID   = 0x11

	hepTypeSIP = 1
	maxHEP     = 65507 // one UDP datagram
)

// EncodeHEP appends m as one HEP v3 packet to dst.
func EncodeHEP(dst []byte, m Message, id uint32, password, callID string) []byte {
	src, dstAddr := addrPort(m.Remote), addrPort(m.Local)
	if !m.In {
		src, dstAddr = dstAddr, src
	}
	start := len(dst)
	dst = append(dst, 'H', 'E', 'P', '3', 0, 0)
	v6 := src.Addr().Is6() || dstAddr.Addr().Is6()
	if v6 {
		dst = chunk(dst, hepFamily, []byte{10})
	} else {
		dst = chunk(dst, hepFamily, []byte{2})
	}
	proto := byte(6) // TCP, TLS, WS, WSS
	if m.Transport == "udp" {
		proto = 17
	}
	dst = chunk(dst, hepProto, []byte{proto})
	if v6 {
		s, d := src.Addr().As16(), dstAddr.Addr().As16()
		dst = chunk(dst, hepSrcIP6, s[:])
		dst = chunk(dst, hepDstIP6, d[:])
	} else {
		s, d := src.Addr().As4(), dstAddr.Addr().As4()
		dst = chunk(dst, hepSrcIP4, s[:])
		dst = chunk(dst, hepDstIP4, d[:])
	}
	dst = chunk(dst, hepSrcPort, binary.BigEndian.AppendUint16(nil, src.Port()))
	dst = chunk(dst, hepDstPort, binary.BigEndian.AppendUint16(nil, dstAddr.Port()))
	dst = chunk(dst, hepTimeSec, binary.BigEndian.AppendUint32(nil, uint32(m.Time.Unix())))
	dst = chunk(dst, hepTimeUsec, binary.BigEndian.AppendUint32(nil, uint32(m.Time.Nanosecond()/1000)))
	dst = chunk(dst, hepProtoTyp, []byte{hepTypeSIP})
	dst = chunk(dst, hepAgentID, binary.BigEndian.AppendUint32(nil, id))
	if password != "" {
		dst = chunk(dst, hepAuthKey, []byte(password))
	}
	if callID != "" {
		dst = chunk(dst, hepCorrID, []byte(callID))
	}
	room := maxHEP - (len(dst) - start) - 6
	payload := m.Data
	if len(payload) > room {
		payload = payload[:max(room, 0)]
	}
	dst = chunk(dst, hepPayload, payload)
	binary.BigEndian.PutUint16(dst[start+4:], uint16(len(dst)-start))
	return dst
}

func chunk(dst []byte, typ uint16, v []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, 0) // vendor: generic
	dst = binary.BigEndian.AppendUint16(dst, typ)
	dst = binary.BigEndian.AppendUint16(dst, uint16(6+len(v)))
	return append(dst, v...)
}

// addrPort parses host:port; what does not parse is 0.0.0.0:0.
func addrPort(s string) netip.AddrPort {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// HEPExporter sends HEP packets from a queue, so a slow or absent capture
// server never delays a SIP message; when the queue is full packets are
// dropped and counted.
type HEPExporter struct {
	cfg     HEPConfig
	conn    net.Conn
	q       chan []byte
	log     *slog.Logger
	dropped atomic.Int64
	wg      sync.WaitGroup

	mu     sync.RWMutex // export (read) against Close (write)
	closed bool
}

const hepQueue = 1024

// DialHEP opens the UDP socket to cfg.Address and starts the sender.
func DialHEP(ctx context.Context, cfg HEPConfig, log *slog.Logger) (*HEPExporter, error) {
	if _, _, err := net.SplitHostPort(cfg.Address); err != nil {
		return nil, fmt.Errorf("hep address %q: %w", cfg.Address, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("hep: %w", err)
	}
	e := &HEPExporter{cfg: cfg, conn: conn, q: make(chan []byte, hepQueue), log: log}
	e.wg.Add(1)
	go e.send()
	return e, nil
}

func (e *HEPExporter) send() {
	defer e.wg.Done()
	failed := false
	for p := range e.q {
		if _, err := e.conn.Write(p); err != nil && !failed {
			failed = true // once: a receiver that is down refuses every packet
			e.log.Warn("hep: sending failed (further failures not logged)", "address", e.cfg.Address, "error", err)
		}
	}
}

// export queues m.
func (e *HEPExporter) export(m Message, callID string) {
	p := EncodeHEP(make([]byte, 0, len(m.Data)+160), m, e.cfg.ID, e.cfg.Password, callID)
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return
	}
	select {
	case e.q <- p:
	default:
		e.dropped.Add(1)
	}
}

// Dropped is the number of packets the full queue refused.
func (e *HEPExporter) Dropped() int64 { return e.dropped.Load() }

// Close sends what is queued and closes the socket.
func (e *HEPExporter) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.q)
	e.mu.Unlock()
	e.wg.Wait()
	return e.conn.Close()
}

// String names the destination.
func (e *HEPExporter) String() string { return "hep://" + strings.TrimSpace(e.cfg.Address) }
