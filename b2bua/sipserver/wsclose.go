package sipserver

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// WebSocket close codes (RFC 6455 §7.4.1) that no close frame carries.
const (
	WSCodeNoStatus = 1005 // a close frame without a status code
	WSCodeAbnormal = 1006 // the connection ended without a close frame
)

// wsCloseConn reads a WebSocket connection on sipgo's behalf and watches
// the frames the client sends (RFC 6455 §5.2) for a close frame, so that
// the close code can be told when the connection closes: sipgo keeps it
// to itself. It allocates nothing per read.
type wsCloseConn struct {
	net.Conn
	sn       wsSniffer    // owned by the reader
	code     atomic.Int32 // the client's close code, once its close frame came
	peerGone atomic.Bool  // a read failed: the client closed or vanished
	atClose  atomic.Int32 // CloseCode as it stood when Close was first called; -1: not yet
	pending  atomic.Bool  // a close frame's header came, its status not yet (sipgo stops reading there)
	closing  sync.Once    // the first Close notes how the connection ended
}

// statusWait bounds how long Close waits for the status of a close frame
// whose header came: sent together, it is there already.
const statusWait = 100 * time.Millisecond

func newWSCloseConn(c net.Conn, buffered []byte) *wsCloseConn {
	w := &wsCloseConn{Conn: c}
	w.atClose.Store(-1)
	w.feed(buffered)
	return w
}

func (c *wsCloseConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.feed(b[:n])
	if err != nil {
		c.peerGone.Store(true)
	}
	return n, err
}

func (c *wsCloseConn) feed(b []byte) {
	if code := c.sn.feed(b); code != 0 {
		c.code.CompareAndSwap(0, int32(code))
	}
	c.pending.Store(c.code.Load() == 0 && c.sn.closing && c.sn.pos < 2)
}

// Close closes the connection, noting first how it ended: sipgo stops at
// a close frame's header, so its status is read here.
func (c *wsCloseConn) Close() error {
	c.closing.Do(func() { // two closers must not both read on (sn is the reader's)
		if c.pending.Load() && c.atClose.Load() < 0 {
			c.readStatus()
		}
		c.atClose.CompareAndSwap(-1, int32(c.current()))
	})
	return c.Conn.Close()
}

// readStatus reads on to the status of the close frame whose header came
// (bounded by statusWait); without it the code stays unknown.
func (c *wsCloseConn) readStatus() {
	if err := c.Conn.SetReadDeadline(time.Now().Add(statusWait)); err != nil {
		return
	}
	var buf [2]byte
	for range 2 { // each read takes at least one of the 2 status bytes
		n, err := c.Conn.Read(buf[:min(uint64(2), c.sn.left)])
		c.feed(buf[:n])
		if err != nil || !c.pending.Load() {
			return
		}
	}
}

func (c *wsCloseConn) current() int {
	if code := c.code.Load(); code != 0 {
		return int(code)
	}
	if c.pending.Load() { // a close frame whose status never came
		return WSCodeNoStatus
	}
	if c.peerGone.Load() {
		return WSCodeAbnormal
	}
	return 0
}

// CloseCode tells how the connection ended: the code of the client's
// close frame (WSCodeNoStatus when it had none), WSCodeAbnormal when the
// client went away without one, 0 when we closed it first.
func (c *wsCloseConn) CloseCode() int {
	if code := c.atClose.Load(); code >= 0 {
		return int(code)
	}
	return c.current()
}

// wsSniffer follows the frame boundaries of a client's WebSocket stream.
type wsSniffer struct {
	hdr      [14]byte // the frame header being read
	hn, need int      // header bytes read, and needed (known after 2)
	left     uint64   // payload bytes of the current frame still to come
	pos      uint64   // payload bytes of the current frame seen
	closing  bool     // the current frame is a close frame
	status   [2]byte
	lost     bool // out of step (an absurd length): stops looking
}

// maxFrame bounds a frame's length; past it the stream is not one we can
// follow (sipgo refuses it anyway).
const maxFrame = 1 << 32

// feed takes the next bytes from the client and returns the code of the
// first close frame whose status they complete (WSCodeNoStatus for one
// without), else 0.
func (s *wsSniffer) feed(b []byte) int {
	code := 0
	for len(b) > 0 && !s.lost {
		if s.hn < 2 || s.hn < s.need {
			s.hdr[s.hn] = b[0]
			s.hn++
			b = b[1:]
			if s.hn == 2 {
				s.need = 2 + [...]int{0, 2, 8}[lenForm(s.hdr[1])]
				if s.hdr[1]&0x80 != 0 {
					s.need += 4
				}
			}
			if s.hn == s.need {
				if c := s.startPayload(); code == 0 {
					code = c
				}
			}
			continue
		}
		n := uint64(len(b))
		if n > s.left {
			n = s.left
		}
		if s.closing {
			for i := uint64(0); i < n && s.pos+i < 2; i++ {
				s.status[s.pos+i] = b[i] ^ s.maskByte(s.pos+i)
			}
			if s.pos < 2 && s.pos+n >= 2 && code == 0 {
				code = int(s.status[0])<<8 | int(s.status[1])
			}
		}
		s.pos += n
		s.left -= n
		b = b[n:]
		if s.left == 0 {
			s.hn, s.need = 0, 0
		}
	}
	return code
}

// startPayload reads the header just completed; a frame without payload
// ends here.
func (s *wsSniffer) startPayload() int {
	length := uint64(s.hdr[1] & 0x7f)
	switch lenForm(s.hdr[1]) {
	case 1:
		length = uint64(s.hdr[2])<<8 | uint64(s.hdr[3])
	case 2:
		length = 0
		for _, x := range s.hdr[2:10] {
			length = length<<8 | uint64(x)
		}
	}
	if length > maxFrame {
		s.lost = true
		return 0
	}
	s.closing, s.left, s.pos = s.hdr[0]&0x0f == 0x8, length, 0
	code := 0
	if s.closing && length < 2 {
		code = WSCodeNoStatus
	}
	if length == 0 {
		s.hn, s.need = 0, 0
	}
	return code
}

// lenForm is how the header's second byte gives the length: 0 in it, 1 in
// the next 2 bytes, 2 in the next 8.
func lenForm(b1 byte) int {
	switch b1 & 0x7f {
	case 126:
		return 1
	case 127:
		return 2
	}
	return 0
}

// maskByte is the masking key's byte for payload offset i (none when the
// frame is not masked).
func (s *wsSniffer) maskByte(i uint64) byte {
	if s.hdr[1]&0x80 == 0 {
		return 0
	}
	return s.hdr[s.need-4+int(i%4)]
}
