package rtpep

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/media"
)

const testIP = "127.0.0.1"

// newTestEndpoint starts an endpoint on loopback with OS-chosen ports.
func newTestEndpoint(t testing.TB, cfg Config) *Endpoint {
	t.Helper()
	if cfg.IP == "" {
		cfg.IP = testIP
	}
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// connect runs Offer on a, Answer on b and Accept on a.
func connect(t testing.TB, a, b *Endpoint) {
	t.Helper()
	ctx := context.Background()
	offer, err := a.Offer(ctx)
	if err != nil {
		t.Fatalf("Offer: %v", err)
	}
	answer, err := b.Answer(ctx, offer)
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	if err := a.Accept(ctx, answer); err != nil {
		t.Fatalf("Accept: %v", err)
	}
}

// capture is an output sink recording the frames it gets; with codec set
// it also takes payloads of that codec (a PayloadSink).
type capture struct {
	mu       sync.Mutex
	pcm      []int16
	frames   int
	payloads int
	codec    string
}

func (c *capture) Rate() int      { return 8000 }
func (c *capture) String() string { return "capture" }

func (c *capture) WriteFrame(pcm []int16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pcm = append(c.pcm, pcm...)
	c.frames++
	return nil
}

func (c *capture) samples() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int16(nil), c.pcm...)
}

func (c *capture) counts() (frames, payloads int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames, c.payloads
}

// payloadCapture is a capture that also takes payloads of one codec.
type payloadCapture struct {
	capture
}

func (c *payloadCapture) Takes(codec media.Codec) bool {
	return strings.EqualFold(codec.String(), c.codec)
}

func (c *payloadCapture) WritePayload(codec media.Codec, payload []byte) (bool, error) {
	if !c.Takes(codec) {
		return false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.payloads++
	return true, nil
}

// sendTone writes frames of a sine of freq Hz and amplitude amp into s,
// one every 20 ms, and returns when done or ctx ends.
func sendTone(ctx context.Context, s media.Sink, freq, amp float64, frames int) error {
	tk := time.NewTicker(media.FrameDuration)
	defer tk.Stop()
	pcm := make([]int16, 160)
	n := 0
	for f := range frames {
		for i := range pcm {
			pcm[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(n)/8000))
			n++
		}
		if err := s.WriteFrame(pcm); err != nil {
			return fmt.Errorf("frame %d: %w", f, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
	}
	return nil
}

// goertzel returns the amplitude of the freq component of x.
func goertzel(x []int16, freq float64) float64 {
	w := 2 * math.Pi * freq / 8000
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(math.Max(power, 0)) / float64(len(x))
}

func rms(x []int16) float64 {
	var sum float64
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(x)))
}

// toneReport measures a received tone: the amplitude at freq, the share of
// the signal's energy in that tone, and the strongest neighbour.
type toneReport struct {
	amp, purity, neighbour float64
}

func measureTone(x []int16, freq float64) toneReport {
	amp := goertzel(x, freq)
	r := rms(x)
	rep := toneReport{amp: amp}
	if r > 0 {
		rep.purity = (amp * amp / 2) / (r * r)
	}
	for _, f := range []float64{freq - 200, freq + 200, freq * 2} {
		rep.neighbour = math.Max(rep.neighbour, goertzel(x, f))
	}
	return rep
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// expectTone checks that the captured audio holds the tone: skip the
// first frames (latency, start-up) and analyse the rest.
func expectTone(t *testing.T, c *capture, freq, amp, minPurity float64) {
	t.Helper()
	x := c.samples()
	const skip = 10 * 160
	if len(x) < skip+20*160 {
		t.Fatalf("received %d samples, want at least %d", len(x), skip+20*160)
	}
	x = x[skip:]
	rep := measureTone(x, freq)
	t.Logf("tone %.0f Hz: amplitude %.0f (sent %.0f), purity %.3f, neighbour %.0f, %d samples",
		freq, rep.amp, amp, rep.purity, rep.neighbour, len(x))
	if rep.amp < 0.8*amp || rep.amp > 1.1*amp {
		t.Errorf("amplitude %.0f, want about %.0f", rep.amp, amp)
	}
	if rep.purity < minPurity {
		t.Errorf("purity %.3f, want >= %.2f", rep.purity, minPurity)
	}
	if rep.neighbour > 0.1*rep.amp {
		t.Errorf("neighbouring frequency amplitude %.0f, want < 10%% of %.0f", rep.neighbour, rep.amp)
	}
}

// rawPeer is a plain UDP socket standing in for a phone.
type rawPeer struct {
	conn *net.UDPConn
}

func newRawPeer(t testing.TB) *rawPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(testIP+":0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawPeer{conn: c}
}

func (p *rawPeer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

// read returns the next datagram, or nil after d.
func (p *rawPeer) read(d time.Duration) []byte {
	buf := make([]byte, 2048)
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	n, _, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// readRTP returns the next datagram as an RTP packet; it fails the test
// when none comes within d or it does not parse.
func (p *rawPeer) readRTP(t testing.TB, d time.Duration) rtp.Packet {
	t.Helper()
	b := p.read(d)
	if b == nil {
		t.Fatalf("no RTP packet within %v", d)
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	return pkt
}

// offerSDP builds a peer's SDP: session lines with c=IN IP4 addr, then lines.
func offerSDP(addr string, lines ...string) []byte {
	s := "v=0\r\no=peer 1 1 IN IP4 " + addr + "\r\ns=-\r\nc=IN IP4 " + addr + "\r\nt=0 0\r\n"
	for _, l := range lines {
		s += l + "\r\n"
	}
	return []byte(s)
}
