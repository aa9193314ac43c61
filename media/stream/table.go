package stream

import "github.com/softswitch/softswitch/media"

// ptEntry is what one payload type carries: an audio codec, or
// telephone-event at a clock rate.
type ptEntry struct {
	codec media.Codec
	te    bool
	clock uint32
}

// PTTable maps the payload types we receive to what they carry. The zero
// value accepts nothing. A stream keeps its own copy (SetReceive).
type PTTable struct {
	e         [128]ptEntry
	first     media.Codec // the codec the peer is expected to send, for String
	firstPT   uint8
	haveFirst bool
}

// SetCodec accepts codec c at payload type pt; the first codec set is the
// one the peer is expected to send. An earlier entry for pt is kept.
func (t *PTTable) SetCodec(pt uint8, c media.Codec) {
	pt &= 0x7f
	if c == media.CodecNone || t.e[pt] != (ptEntry{}) {
		return
	}
	t.e[pt] = ptEntry{codec: c, clock: c.Clock()}
	if !t.haveFirst {
		t.first, t.firstPT, t.haveFirst = c, pt, true
	}
}

// SetTE accepts telephone-event at payload type pt with its clock rate.
func (t *PTTable) SetTE(pt uint8, clock uint32) {
	pt &= 0x7f
	if clock == 0 || t.e[pt] != (ptEntry{}) {
		return
	}
	t.e[pt] = ptEntry{te: true, clock: clock}
}

// SetPrimary names the codec the peer sends (the first of its answer),
// when the table knows it.
func (t *PTTable) SetPrimary(c media.Codec) {
	for pt, e := range t.e {
		if e.codec == c && !e.te {
			t.first, t.firstPT, t.haveFirst = c, uint8(pt), true
			return
		}
	}
}

func (t *PTTable) primary() (media.Codec, uint8) {
	if t == nil {
		return media.CodecNone, 0
	}
	return t.first, t.firstPT
}

// SetReceive installs the payload types we receive. The reader sees the
// new table on its next packet; buffered audio of a codec that is gone is
// dropped then.
func (s *Stream) SetReceive(t PTTable) { s.table.Store(&t) }

// Receiving returns a copy of the payload types we receive.
func (s *Stream) Receiving() PTTable {
	if t := s.table.Load(); t != nil {
		return *t
	}
	return PTTable{}
}

// Classify tells what payload type pt carries for us now: an audio codec
// (te false), or telephone-event at teClock (te true); ok is false for a
// payload type we did not negotiate.
func (s *Stream) Classify(pt uint8) (c media.Codec, te bool, teClock uint32, ok bool) {
	return s.table.Load().Lookup(pt)
}

// Lookup tells what payload type pt carries: an audio codec at its clock
// (te false), or telephone-event at clock; ok is false when pt is not in
// the table.
func (t *PTTable) Lookup(pt uint8) (c media.Codec, te bool, clock uint32, ok bool) {
	if t == nil { // a stream's before SetReceive
		return media.CodecNone, false, 0, false
	}
	e := t.e[pt&0x7f]
	return e.codec, e.te, e.clock, e != (ptEntry{})
}
