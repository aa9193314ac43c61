package sipserver

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

// clientFrames writes what a browser sends: masked frames, as gobwas/ws
// (sipgo's WebSocket library) builds them.
func clientFrames(t testing.TB, frames ...ws.Frame) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, f := range frames {
		if err := ws.WriteFrame(&b, ws.MaskFrame(f)); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestWSSnifferFindsCloseCode(t *testing.T) {
	register := ws.NewTextFrame([]byte("REGISTER sip:h SIP/2.0\r\n" + strings.Repeat("X-Pad: y\r\n", 40) + "\r\n")) // > 125 bytes: 2-byte length
	big := ws.NewBinaryFrame(bytes.Repeat([]byte{0x88}, 70000))                                                     // 8-byte length, close-like bytes inside
	for _, tc := range []struct {
		name string
		data []byte
		want int
	}{
		{"going away after traffic", clientFrames(t, register, big, ws.NewPingFrame(nil), ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusGoingAway, "tab closed"))), 1001},
		{"normal", clientFrames(t, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))), 1000},
		{"no status", clientFrames(t, register, ws.NewCloseFrame(nil)), WSCodeNoStatus},
		{"unmasked", func() []byte {
			var b bytes.Buffer
			_ = ws.WriteFrame(&b, ws.NewCloseFrame(ws.NewCloseFrameBody(4000, "")))
			return b.Bytes()
		}(), 4000},
		{"none", clientFrames(t, register, big), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{1, 3, 7, 4096, len(tc.data)} { // however the reads split it
				var s wsSniffer
				got := 0
				for b := tc.data; len(b) > 0; {
					n := min(chunk, len(b))
					if c := s.feed(b[:n]); c != 0 {
						got = c
					}
					b = b[n:]
				}
				if got != tc.want {
					t.Fatalf("reads of %d bytes: code %d, want %d", chunk, got, tc.want)
				}
			}
		})
	}
}

// The connection tells how it ended: the client's close frame, no close
// frame (the client vanished: 1006), or closed by us first (0).
func TestWSCloseConn(t *testing.T) {
	pipe := func(send []byte, clientCloses bool) *wsCloseConn {
		a, b := net.Pipe()
		c := newWSCloseConn(a, send[:1]) // a first byte already buffered by the HTTP server
		go func() {
			_, _ = b.Write(send[1:])
			if clientCloses {
				_ = b.Close()
			}
		}()
		t.Cleanup(func() { _ = b.Close() })
		if clientCloses {
			_, _ = io.Copy(io.Discard, c)
		} else {
			buf := make([]byte, len(send))
			if _, err := io.ReadFull(c, buf[:len(send)-1]); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	register := ws.NewTextFrame([]byte("REGISTER sip:h SIP/2.0\r\n\r\n"))
	c := pipe(clientFrames(t, register, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusGoingAway, ""))), true)
	_ = c.Close()
	if got := c.CloseCode(); got != 1001 {
		t.Errorf("close frame 1001: CloseCode %d", got)
	}
	// As sipgo reads: up to the close frame's header, then Close.
	a, b := net.Pipe()
	t.Cleanup(func() { _ = b.Close() })
	first := clientFrames(t, register)
	closing := clientFrames(t, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusGoingAway, "bye")))
	go func() { _, _ = b.Write(append(append([]byte(nil), first...), closing...)) }()
	c = newWSCloseConn(a, nil)
	if _, err := io.ReadFull(c, make([]byte, len(first)+2+4)); err != nil { // frames, close header and mask key
		t.Fatal(err)
	}
	_ = c.Close()
	if got := c.CloseCode(); got != 1001 {
		t.Errorf("close frame read to its header: CloseCode %d, want 1001", got)
	}
	c = pipe(clientFrames(t, register), true)
	_ = c.Close()
	if got := c.CloseCode(); got != WSCodeAbnormal {
		t.Errorf("client vanished: CloseCode %d, want 1006", got)
	}
	c = pipe(clientFrames(t, register), false)
	_ = c.Close()
	if got := c.CloseCode(); got != 0 {
		t.Errorf("closed by us: CloseCode %d, want 0", got)
	}
}

func FuzzWSSniffer(f *testing.F) {
	f.Add(clientFrames(f, ws.NewTextFrame([]byte("x")), ws.NewCloseFrame(ws.NewCloseFrameBody(1001, "bye"))), 3)
	f.Add([]byte{0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		if chunk <= 0 {
			chunk = 1
		}
		var whole, split wsSniffer
		want := whole.feed(data)
		got := 0
		for b := data; len(b) > 0 && got == 0; {
			n := min(chunk, len(b))
			got = split.feed(b[:n])
			b = b[n:]
		}
		if got != want || want != firstCode(data) {
			t.Fatalf("first close code: whole %d, in chunks of %d %d, byte by byte %d", want, chunk, got, firstCode(data))
		}
		if want < 0 || want > 0xffff {
			t.Fatalf("code %d", want)
		}
	})
}

// firstCode feeds data byte by byte and returns the first code found.
func firstCode(data []byte) int {
	var s wsSniffer
	for i := range data {
		if c := s.feed(data[i : i+1]); c != 0 {
			return c
		}
	}
	return 0
}
