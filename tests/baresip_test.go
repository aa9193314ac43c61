package tests

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/sounds"
)

// baresipOpts describes one headless baresip desk phone.
type baresipOpts struct {
	ext, password string
	tone          float64 // Hz it sends (from a WAV file; the file's end ends its calls)
	toneFor       time.Duration
	codecs        string // e.g. "PCMU/8000/1"
	autoAnswer    bool
	dial          string // extension to call at start
	runFor        time.Duration
	mwi           bool   // subscribe to message-summary (module mwi)
	ctrlPort      int    // >0: accept commands on this TCP port (module ctrl_tcp, see baresip.command)
	extraConfig   string // appended to the config file (e.g. modules a test needs)
	contacts      string // the contacts file (with module_app contact.so in extraConfig: /message to the current contact)
	stdio         bool   // load the stdio UI (on an idle pipe): what the UI prints, e.g. received MESSAGEs, is in output()
}

// baresip is a running baresip; it exits by itself after runFor.
type baresip struct {
	dir    string
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	exited chan struct{}
}

// startBaresip writes a config (SIP on testHostIP, audio from a tone WAV,
// received audio recorded by the sndfile module) and starts baresip.
func startBaresip(t *testing.T, s *server, o baresipOpts) *baresip {
	t.Helper()
	path, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatal("baresip not found: run `make deps` (Debian package baresip-core)")
	}
	dir := t.TempDir()
	wav := filepath.Join(dir, "tone.wav")
	writeToneWAV(t, wav, o.tone, o.toneFor)
	// baresip binds its SIP port on UDP and TCP, and another test's socket
	// can take a port between our check and baresip's bind: a start that
	// fails on "Address already in use" is retried on fresh ports.
	for attempt := 1; ; attempt++ {
		b := launchBaresip(t, s, path, dir, wav, o)
		if !b.initFailedOnBusyPort(10 * time.Second) {
			return b
		}
		if attempt == 5 {
			t.Fatalf("baresip %s could not bind free ports in %d attempts:\n%s", o.ext, attempt, b.output())
		}
		t.Logf("baresip %s: ports taken before it bound them, retrying (attempt %d)", o.ext, attempt)
	}
}

// launchBaresip writes the config with fresh ports and starts baresip.
func launchBaresip(t *testing.T, s *server, path, dir, wav string, o baresipOpts) *baresip {
	t.Helper()
	sipPort := freeSIPPort(t, testHostIP)
	rtpPort := freeRTPPair(t)
	answer := "manual"
	if o.autoAnswer {
		answer = "auto"
	}
	mwi, extra := "no", ""
	if o.mwi {
		mwi, extra = "yes", "module_app mwi.so\n"
	}
	if o.stdio {
		extra += "module stdio.so\n"
	}
	if o.ctrlPort > 0 {
		extra += fmt.Sprintf("module_app ctrl_tcp.so\nctrl_tcp_listen %s:%d\n", testHostIP, o.ctrlPort)
	}
	config := fmt.Sprintf(`poll_method epoll
sip_listen %s:%d
audio_player aubridge,nil
audio_source aufile,%s
audio_alert aubridge,nil
rtp_ports %d-%d
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
snd_path %s
module_app account.so
module_app menu.so
%s`, testHostIP, sipPort, wav, rtpPort, rtpPort+1, dir, extra+o.extraConfig)
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;regint=600;answermode=%s;audio_codecs=%s;mwi=%s\n",
		o.ext, s.addr("udp"), o.password, answer, o.codecs, mwi)
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": o.contacts} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"-4", "-f", dir, "-t", strconv.Itoa(int(o.runFor.Seconds()))}
	if o.dial != "" {
		args = append(args, "-e", "/dial "+o.dial)
	}
	b := &baresip{dir: dir, exited: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), o.runFor+20*time.Second)
	b.cmd = exec.CommandContext(ctx, path, args...)
	b.cmd.Dir = dir
	b.cmd.Stdout = &lockedWriter{mu: &b.mu, w: &b.out}
	b.cmd.Stderr = b.cmd.Stdout
	if o.stdio {
		// The stdio UI polls its stdin, which /dev/null does not allow.
		r, w, err := os.Pipe()
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		b.cmd.Stdin = r
		defer r.Close() // the child has its copy
		t.Cleanup(func() { _ = w.Close() })
	}
	if err := b.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		_ = b.cmd.Wait()
		cancel()
		close(b.exited)
	}()
	t.Cleanup(func() {
		_ = b.cmd.Process.Kill()
		<-b.exited
		if t.Failed() {
			t.Logf("baresip %s output:\n%s", o.ext, b.output())
		}
	})
	return b
}

// initFailedOnBusyPort waits until baresip says it is ready or exits, and
// reports whether it exited because a port it was told to use was taken.
func (b *baresip) initFailedOnBusyPort(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		out := b.output()
		if strings.Contains(out, "baresip is ready") {
			return false
		}
		select {
		case <-b.exited:
			return strings.Contains(b.output(), "Address already in use")
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false // slow to start: the test's own waits decide
}

func (b *baresip) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

// wait waits for baresip to exit by itself.
func (b *baresip) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-b.exited:
	case <-time.After(d):
		t.Fatalf("baresip did not exit within %v", d)
	}
}

// heard returns the audio baresip received (its decoder's output).
func (b *baresip) heard(t *testing.T) *sounds.Prompt {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(b.dir, "dump-*-dec.wav"))
	if len(files) != 1 {
		t.Fatalf("want one recording of received audio, found %v", files)
	}
	p, err := sounds.LoadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// assertHeardTone checks that the middle of a recording is a clear tone.
func assertHeardTone(t *testing.T, who string, p *sounds.Prompt, want float64) {
	t.Helper()
	if len(p.PCM) < p.Rate {
		t.Fatalf("%s heard only %d samples", who, len(p.PCM))
	}
	mid := p.PCM[len(p.PCM)/4 : len(p.PCM)*3/4]
	level := audiotest.RMSdBFS(mid)
	f := audiotest.DominantFrequency(mid, p.Rate, 100, 3000, 5)
	t.Logf("%s heard %.1f s, %.1f dBFS, dominant %.0f Hz", who, float64(len(p.PCM))/float64(p.Rate), level, f)
	if level < -30 || f < want-15 || f > want+15 {
		t.Fatalf("%s heard %.0f Hz at %.1f dBFS, want %.0f Hz clearly above silence", who, f, level, want)
	}
}

func writeToneWAV(t *testing.T, path string, freq float64, d time.Duration) {
	t.Helper()
	tone := media.NewTone(freq, -12, 8000)
	pcm := make([]int16, int(d.Seconds()*8000)/160*160)
	for i := 0; i < len(pcm); i += 160 {
		tone.Next(pcm[i : i+160])
	}
	if err := os.WriteFile(path, sounds.EncodeWAV(&sounds.Prompt{Name: "tone", Rate: 8000, PCM: pcm}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// freeSIPPort finds a port free on ip for both UDP and TCP (baresip's
// sip_listen binds both).
func freeSIPPort(t *testing.T, ip string) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		p := freePortOn(t, "udp", ip)
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return 0
}

// freePortOn asks the OS for a free port on ip.
func freePortOn(t *testing.T, network, ip string) int {
	t.Helper()
	c, err := net.ListenPacket(network, net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// freeRTPPair finds an even port whose odd neighbour is free too, in
// 2000-9999: below the softswitch's rtp_ports (10000-20000), the spray
// tests' 20002-32000 and the kernel's ephemeral range, so no socket the
// kernel hands out takes it while baresip has it unbound between two
// calls (baresip binds its rtp_ports pair per call: a phone that dials
// again found its pair taken by another test's ephemeral socket once).
func freeRTPPair(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		p := 2000 + 2*rand.IntN(4000)
		a, err1 := net.ListenPacket("udp", net.JoinHostPort(testHostIP, strconv.Itoa(p)))
		b, err2 := net.ListenPacket("udp", net.JoinHostPort(testHostIP, strconv.Itoa(p+1)))
		if a != nil {
			a.Close()
		}
		if b != nil {
			b.Close()
		}
		if err1 == nil && err2 == nil {
			return p
		}
	}
	t.Fatal("no free RTP port pair")
	return 0
}

// startPhoneServer runs a softswitch reachable by baresip.
func startPhoneServer(t *testing.T, extra ...string) *server {
	t.Helper()
	return startServer(t, "", append([]string{"--sip", testHostIP + ":0", "--media-ip", testHostIP}, extra...)...)
}

// baresip 1001 calls baresip 1002 through the softswitch: each hears the
// other's tone (caller 1000 Hz, callee 440 Hz). With the callee on PCMA and
// the caller on PCMU the media core transcodes.
func TestBaresipCall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, callerCodec, calleeCodec string
		calleeHangsUp                  bool // else the caller does
	}{
		{"PCMU to PCMU", "PCMU/8000/1", "PCMU/8000/1", false},
		{"PCMU to PCMA transcoded", "PCMU/8000/1", "PCMA/8000/1", false},
		{"callee hangs up", "PCMU/8000/1", "PCMU/8000/1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startPhoneServer(t)
			// A phone hangs up when its audio file ends.
			callerTone, calleeTone, side := 4*time.Second, 20*time.Second, " caller "
			if tc.calleeHangsUp {
				callerTone, calleeTone, side = 20*time.Second, 4*time.Second, " callee "
			}
			callee := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 440, toneFor: calleeTone,
				codecs: tc.calleeCodec, autoAnswer: true, runFor: 9 * time.Second})
			waitFor(t, 10*time.Second, "1002 registered", func() bool { return strings.Contains(s.registrations("1002"), "via udp") })
			caller := startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 1000, toneFor: callerTone,
				codecs: tc.callerCodec, dial: "1002", runFor: 7 * time.Second})
			caller.wait(t, 30*time.Second)
			waitFor(t, 10*time.Second, "CDR", func() bool {
				return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), "user/1002")
			})
			callee.wait(t, 30*time.Second)
			assertHeardTone(t, "caller", caller.heard(t), 440)
			assertHeardTone(t, "callee", callee.heard(t), 1000)
			cdr := runCLI(t, "cdr", "list", "--data", s.data)
			wantCodecs := strings.Split(tc.callerCodec, "/")[0] + "/" + strings.Split(tc.calleeCodec, "/")[0]
			if !strings.Contains(cdr, "normal") || !strings.Contains(cdr, wantCodecs) || !strings.Contains(cdr, " 1001 ") || !strings.Contains(cdr, side) {
				t.Fatalf("CDR does not show the answered call with codecs %s, ended by the%s:\n%s", wantCodecs, side, cdr)
			}
		})
	}
}

func assertHeardToneRaw(t *testing.T, pcm []int16, want float64) {
	t.Helper()
	assertHeardTone(t, "caller", promptOf(pcm), want)
}

// promptOf wraps received 8 kHz audio for the assertions.
func promptOf(pcm []int16) *sounds.Prompt { return &sounds.Prompt{Rate: 8000, PCM: pcm} }
