package media

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// FuzzRTPPayload parses arbitrary datagrams as the RTP and WebRTC receive
// paths do (pion's header parser, then RTPPayload): the payload must lie
// between the header and the padding, and agree with pion's own packet
// parser whenever both accept the packet.
func FuzzRTPPayload(f *testing.F) {
	hdr := []byte{0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa0, 0xde, 0xad, 0xbe, 0xef}
	f.Add(append(bytes.Clone(hdr), make([]byte, 160)...))                                                      // PCMU, 20 ms
	f.Add(append([]byte{0xa0, 0xe5, 0, 2, 0, 0, 1, 0x40, 1, 2, 3, 4}, 5, 0x8a, 0x03, 0x20, 0, 0, 0, 4))        // padded telephone-event
	f.Add([]byte{0x90, 0x6f, 0, 3, 0, 0, 3, 0xc0, 1, 2, 3, 4, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0, 0xfc, 0xff}) // Opus with a one-byte extension
	f.Add([]byte{0xb0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0xff})                                     // padding runs into the header
	f.Add([]byte{0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 9})                                           // one CSRC
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var h rtp.Header
		hl, err := h.Unmarshal(pkt)
		if err != nil {
			return
		}
		payload, ok := RTPPayload(pkt, hl, h.Padding)
		if !ok {
			return
		}
		pad := 0
		if h.Padding {
			pad = int(pkt[len(pkt)-1])
		}
		if hl+len(payload)+pad != len(pkt) || !bytes.Equal(payload, pkt[hl:hl+len(payload)]) {
			t.Fatalf("payload %d bytes at %d, padding %d, packet %d", len(payload), hl, pad, len(pkt))
		}
		var p rtp.Packet
		if err := p.Unmarshal(bytes.Clone(pkt)); err == nil && !bytes.Equal(p.Payload, payload) {
			t.Fatalf("pion payload %x, ours %x", p.Payload, payload)
		}
	})
}

// FuzzDTMFDetector feeds the detector arbitrary telephone-event packets
// (each op: timestamp step, payload, time step): it reports only DTMF
// digits, never more than one per event (RTP timestamp), with a duration
// the packets can express.
func FuzzDTMFDetector(f *testing.F) {
	// 5 (start, update, three ends), then # at the next timestamp.
	f.Add([]byte{0, 5, 10, 0, 160, 20, 0, 5, 10, 1, 64, 20, 0, 5, 0x8a, 3, 32, 20, 0, 5, 0x8a, 3, 32, 0, 0, 5, 0x8a, 3, 32, 0,
		8, 11, 10, 0, 160, 20, 0, 11, 0x8a, 1, 64, 20})
	f.Add([]byte{0, 1, 10, 0, 160, 20, 0, 16, 10, 0, 160, 255, 0, 1, 0x80, 0, 0, 0}) // lost end, flash, late end
	f.Fuzz(func(t *testing.T, ops []byte) {
		var d DTMFDetector
		var out [2]Event
		var ts uint32
		var now time.Duration
		events := map[uint32]bool{}
		digits := 0
		check := func(n int) {
			if n < 0 || n > 2 {
				t.Fatalf("%d events", n)
			}
			for _, ev := range out[:n] {
				if _, ok := DigitToEvent(ev.Digit); !ok || ev.Kind != EventDTMF {
					t.Fatalf("reported %+v", ev)
				}
				if ev.Duration < 0 || ev.Duration > 65535*time.Second/8000 {
					t.Fatalf("duration %v", ev.Duration)
				}
			}
			digits += n
		}
		for ; len(ops) >= 6; ops = ops[6:] {
			ts += uint32(int8(ops[0])) * 160
			ev, err := ParseDTMF(ops[1:5])
			if err != nil {
				t.Fatal(err)
			}
			now += time.Duration(ops[5]) * 10 * time.Millisecond
			events[ts] = true
			check(d.Feed(ts, ev, 8000, now, &out))
			check(d.Expire(now, &out))
			if digits > len(events) {
				t.Fatalf("%d digits from %d events", digits, len(events))
			}
		}
	})
}

func FuzzJitterBuffer(f *testing.F) {
	f.Add([]byte{3, 0, 1, 0, 2, 255, 0, 4, 255, 3})
	f.Add([]byte{1, 255, 255, 0, 0, 255, 255})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) == 0 {
			return
		}
		j := NewJitterBuffer(int(ops[0] % 8))
		var base uint16
		for i := 1; i < len(ops); i++ {
			switch op := ops[i]; {
			case op == 255:
				p, ok, lost := j.Pop()
				if ok && (lost || len(p) != 1) {
					t.Fatalf("bad pop %v %v %v", p, ok, lost)
				}
			case op == 254:
				j.Reset()
			case op == 253:
				base += 20000
			default:
				seq := base + uint16(op)
				j.Push(seq, 0, []byte{op})
			}
			if j.Len() < 0 || j.Len() > j.Depth() {
				t.Fatalf("Len %d outside 0..%d", j.Len(), j.Depth())
			}
			held := 0
			for k := range j.slots {
				if s := &j.slots[k]; s.full {
					held++
					if d := uint16(s.seq - j.next); int(d) >= j.depth {
						t.Fatalf("slot seq %d outside window at %d", s.seq, j.next)
					}
				}
			}
			if held != j.held {
				t.Fatalf("held %d, counted %d", j.held, held)
			}
		}
	})
}

func FuzzParseDTMF(f *testing.F) {
	f.Add([]byte{5, 10, 0x01, 0x40})
	f.Add([]byte{11, 0x8a, 0x03, 0x20})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, in []byte) {
		ev, err := ParseDTMF(in)
		if err != nil {
			if len(in) >= DTMFEventSize {
				t.Fatalf("rejected %d bytes: %v", len(in), err)
			}
			return
		}
		var buf [DTMFEventSize]byte
		if n := ev.Marshal(buf[:]); n != DTMFEventSize {
			t.Fatalf("marshal wrote %d", n)
		}
		// Round trip is exact except for the reserved bit.
		want := [DTMFEventSize]byte{in[0], in[1] &^ 0x40, in[2], in[3]}
		if buf != want {
			t.Fatalf("round trip %x -> %x", in[:DTMFEventSize], buf)
		}
		if d, ok := EventToDigit(ev.Event); ok {
			if back, ok := DigitToEvent(d); !ok || back != ev.Event {
				t.Fatalf("digit %q does not map back to %d", d, ev.Event)
			}
		}
	})
}
