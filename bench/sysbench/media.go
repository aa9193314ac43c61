package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// mediaCall is one call of the media stages: a caller side (PCMU RTP or
// an emulated browser) and a callee side (PCMU RTP, a desk phone).
type mediaCall struct {
	dlg     *dialog
	a       *rtpStream // relay
	browser *browser   // transcode
	b       *rtpStream
	answer  []byte // the callee's 200, for a retransmitted INVITE
	bIP     string // the media address the callee's leg was offered
	callID  string // of the callee's leg
	rtpeID  string // rtpengine call-id and from-tag
}

func (c *mediaCall) close() {
	if c.a != nil {
		c.a.close()
	}
	if c.browser != nil {
		c.browser.close()
	}
	if c.b != nil {
		c.b.close()
	}
}

// mediaLoad holds the calls and the counters of one media stage.
type mediaLoad struct {
	transcode      bool
	caller, callee *ua
	calleeUser     user
	pacer          *pacer
	ab, ba         counters // A (caller) -> B (callee) and back
	pending        chan *mediaCall
	mu             sync.Mutex
	byCallID       map[string]*mediaCall
	calls          []*mediaCall
	dropped        atomic.Int64
	cert           *benchCert
	poll           *poller // receives for every stream of the stage
	opus           [][]byte
	speech         [][]byte
	rtpe           *rtpengine // the reference instead of the softswitch
	// byIP counts the calls up by the media address of the caller's
	// answer (the node that took the call, in a cluster); split counts
	// calls whose two legs were given different media addresses.
	byIP  map[string]int
	split int
}

// onCalleeRequest answers the softswitch's INVITEs to the callee: the
// INVITE belongs to the call being set up (calls are set up one at a time).
func (l *mediaLoad) onCalleeRequest(m *sipMsg, from *net.UDPAddr) {
	switch m.method {
	case "INVITE":
		l.mu.Lock()
		c := l.byCallID[m.callID()]
		l.mu.Unlock()
		if c != nil {
			_, _ = l.callee.conn.WriteToUDP(c.answer, from)
			return
		}
		select {
		case c = <-l.pending:
		default:
			_, _ = l.callee.conn.WriteToUDP(m.response(486, "Busy Here", randHex(4), "", nil), from)
			return
		}
		if ip, port, err := sdpAudio(m.body); err == nil {
			_ = c.b.setRemote(ip, port) // checked when the call is up
			c.bIP = ip
		}
		c.callID = m.callID()
		contact := fmt.Sprintf("Contact: <sip:%s@%s>\r\n", l.calleeUser.ext, l.callee.local)
		c.answer = m.response(200, "OK", randHex(4), contact, pcmuSDP(c.b.port()))
		l.mu.Lock()
		l.byCallID[c.callID] = c
		l.mu.Unlock()
		_, _ = l.callee.conn.WriteToUDP(c.answer, from)
	case "ACK":
	case "BYE":
		l.mu.Lock()
		_, known := l.byCallID[m.callID()]
		delete(l.byCallID, m.callID())
		l.mu.Unlock()
		if known {
			l.dropped.Add(1)
		}
		_, _ = l.callee.conn.WriteToUDP(m.response(200, "OK", "", "", nil), from)
	default:
		_, _ = l.callee.conn.WriteToUDP(m.response(200, "OK", "", "", nil), from)
	}
}

// addCall sets up one call and starts its media.
func (l *mediaLoad) addCall(ctx context.Context) error {
	c := &mediaCall{}
	var err error
	if c.b, err = newRTPStream(l.poll, &l.ba, &l.ab, !l.transcode); err != nil {
		return err
	}
	var offer []byte
	if l.transcode {
		if c.browser, err = newBrowser(l.poll, l.cert, l.opus, &l.ab, &l.ba); err != nil {
			c.close()
			return err
		}
		c.b.peerBurst = &c.browser.burst
		c.b.audio = l.speech
		c.browser.peerBurst = &c.b.burst
		if offer, err = c.browser.offer(ctx); err != nil {
			c.close()
			return err
		}
	} else {
		if c.a, err = newRTPStream(l.poll, &l.ab, &l.ba, true); err != nil {
			c.close()
			return err
		}
		offer = pcmuSDP(c.a.port())
	}
	if l.rtpe != nil {
		return l.addRTPengineCall(ctx, c, offer)
	}
	l.pending <- c
	dlg, answer, err := l.caller.invite(ctx, l.calleeUser.ext, offer)
	select {
	case <-l.pending: // the callee never saw it
	default:
	}
	if err != nil {
		c.close()
		return err
	}
	c.dlg = dlg
	l.mu.Lock()
	l.calls = append(l.calls, c)
	l.mu.Unlock()
	var aIP string
	if l.transcode {
		if err := c.browser.accept(ctx, answer); err != nil {
			return err
		}
		aIP = c.browser.ice.remote.addr.IP.String()
		l.pacer.add(c.browser)
	} else {
		ip, port, err := sdpAudio(answer)
		if err != nil {
			return err
		}
		if err := c.a.setRemote(ip, port); err != nil {
			return err
		}
		aIP = ip
		l.pacer.add(c.a)
	}
	if c.b.remote.Load() == nil {
		return fmt.Errorf("the callee's leg never came")
	}
	l.mu.Lock()
	l.byIP[aIP]++
	if aIP != c.bIP {
		l.split++
	}
	l.mu.Unlock()
	l.pacer.add(c.b)
	return nil
}

// addRTPengineCall hands A's offer and B's answer to rtpengine (no SIP).
func (l *mediaLoad) addRTPengineCall(ctx context.Context, c *mediaCall, offer []byte) error {
	c.rtpeID = randHex(8)
	toB, err := l.rtpe.offer(c.rtpeID, c.rtpeID, offer, l.transcode)
	if err != nil {
		c.close()
		return err
	}
	ip, port, err := sdpAudio(toB)
	if err != nil {
		c.close()
		return err
	}
	if err := c.b.setRemote(ip, port); err != nil {
		c.close()
		return err
	}
	toA, err := l.rtpe.answer(c.rtpeID, c.rtpeID, "b"+c.rtpeID, pcmuSDP(c.b.port()))
	if err != nil {
		c.close()
		return err
	}
	l.mu.Lock()
	l.calls = append(l.calls, c)
	l.mu.Unlock()
	if l.transcode {
		if err := c.browser.accept(ctx, toA); err != nil {
			return err
		}
		l.pacer.add(c.browser)
	} else {
		ip, port, err := sdpAudio(toA)
		if err != nil {
			return err
		}
		if err := c.a.setRemote(ip, port); err != nil {
			return err
		}
		l.pacer.add(c.a)
	}
	l.pacer.add(c.b)
	return nil
}

// hangupAll ends every call (BYE from the caller), a few at a time.
func (l *mediaLoad) hangupAll(ctx context.Context) (failed int) {
	l.pacer.clear()
	l.mu.Lock()
	calls := l.calls
	l.calls = nil
	l.byIP = map[string]int{}
	l.byCallID = map[string]*mediaCall{} // BYEs from now on are expected
	l.mu.Unlock()
	var wg sync.WaitGroup
	var nFailed atomic.Int64
	sem := make(chan struct{}, 16)
	for _, c := range calls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if c.dlg != nil {
				if err := c.dlg.bye(ctx, l.calleeUser.ext); err != nil {
					nFailed.Add(1)
				}
			}
			if c.rtpeID != "" {
				if err := l.rtpe.delete(c.rtpeID, c.rtpeID); err != nil {
					nFailed.Add(1)
				}
			}
			c.close()
		}()
	}
	wg.Wait()
	return int(nFailed.Load())
}

// mediaTable adds the table of a media stage to the report.
func mediaTable(rep *report, cfg config, transcode bool) *table {
	title := "Concurrent calls, PCMU ↔ PCMU relayed (Go RTP load generator, 20 ms frames both ways)"
	if transcode {
		title = "Concurrent calls, Opus (ICE, DTLS-SRTP with pion ice/dtls/srtp, 48 kHz) ↔ PCMU transcoded"
	}
	settle, window := mediaTimes(cfg)
	t := rep.table(title, "system", "calls", "setup failed", "CPU % of one core", "CPU % per call", "RSS MiB", "RSS KiB per call",
		"loss A→B %", "loss B→A %", "not ours %", "latency A→B p50 / p99 ms", "latency B→A p50 / p99 ms", "generator CPU %", "generator CPU % per call", "machine busy %", "late ticks")
	t.notes = append(t.notes, fmt.Sprintf("Each step adds calls (set up one at a time), waits %v, then measures for %v. "+
		"CPU and RSS are the server process's (/proc); RSS per call = (RSS − RSS before the first call) / calls. "+
		"Loss compares packets sent and received in the window; latency is send → receive through the server, same clock. "+
		"The ramp stops at > 1 %% loss, p99 > 250 ms, more than 1 %% of setups failed, or when the generator runs late on > 2 %% of its ticks. The generator runs on the same 2 cores; "+
		"late ticks counts its 1 ms pacing ticks that ran more than 5 ms late (frames then skipped). "+
		"generator CPU is this process's (every emulated endpoint: one thread sends all frames and drains all sockets each tick), not the server's. "+
		"machine busy is all non-idle CPU time of the machine in %% of one core (200 = both cores busy), other agents' work included. "+
		"not ours: relayed packets whose payload is not one we sent (the server's loss concealment or comfort frames), not counted as received. "+
		"rtpengine gets the same offers and answers over its ng protocol, without SIP.", settle, window))
	if transcode {
		t.notes = append(t.notes, "A is the emulated browser (Opus 48 kHz: 200 ms silence, then a tone, each second), B the desk phone "+
			"(PCMU: 200 ms silence, then speech, each second). Latency is from sending the first loud packet after the silence to "+
			"receiving the first loud one (B decodes µ-law, A decodes the Opus at 8 kHz): one sample per call per second and direction. "+
			"Latency is taken at the kernel's receive time stamp of each packet. "+
			"B→A loss counts the Opus packets the browser received (SRTP decrypted with pion/srtp). The browser is ICE controlling (pion/stun checks), "+
			"DTLS server (setup:actpass offered) with the peer's certificate checked against the answer's fingerprint (pion/dtls), once per call; "+
			"then SRTP with pion/srtp on the bare socket, no PeerConnection. The browser decodes only the frames around the phone's speech onset.")
	}
	return t
}

func mediaTimes(cfg config) (settle, window time.Duration) {
	if cfg.short {
		return time.Second, 3 * time.Second
	}
	return 2 * time.Second, 8 * time.Second
}

// mediaSteps returns the call counts of a media ramp: the defaults, the
// short run's, or those given for the stage.
func mediaSteps(cfg config, stage string, transcode bool) []int {
	steps := []int{100, 250, 500, 750, 1000, 1250, 1500}
	if transcode {
		steps = []int{25, 50, 100, 150, 200, 250, 300, 350}
	}
	if cfg.short {
		steps = []int{10}
		if transcode {
			steps = []int{5}
		}
	}
	if cfg.steps[stage] != nil {
		steps = cfg.steps[stage]
	}
	return steps
}

// mediaStage ramps concurrent calls with audio through steps until quality
// degrades, through the softswitch (sys: one, or a cluster with its parts)
// or, when rtpe is set, through rtpengine. It returns the calls of the
// last step within the limits (0 if none).
func mediaStage(ctx context.Context, cfg config, rep *report, log io.Writer, t *table, sys *system, rtpe *rtpengine, transcode bool, steps []int) (best int) {
	name := "relay"
	if transcode {
		name = "transcode"
	}
	settle, window := mediaTimes(cfg)
	server, tree := "rtpengine", procTree{}
	if rtpe != nil {
		tree = rtpe.tree()
	} else {
		server, tree = "softswitch", sys.tree
	}
	l := &mediaLoad{transcode: transcode, pending: make(chan *mediaCall, 1), byCallID: map[string]*mediaCall{}, rtpe: rtpe, byIP: map[string]int{}}
	var err error
	if transcode {
		l.cert, err = newCertificate()
		if err == nil {
			l.opus, err = opusCycle()
		}
		if err == nil {
			l.speech, err = speechCycle()
		}
		if err != nil {
			rep.failf("%s: %v", name, err)
			return
		}
	}
	if rtpe == nil {
		// Callers and callees: users near the end of the list, not the last
		// one (the setup stage's sipp phone), a different pair per stage, as
		// UDP bindings outlive a restart and a dead contact would be forked to.
		k := len(sys.users) - 3
		if transcode {
			k -= 2
		}
		callerUser, calleeUser := sys.users[k], sys.users[k+1]
		if l.caller, err = newUA(sys.sip, callerUser); err != nil {
			rep.failf("%s: %v", name, err)
			return
		}
		defer l.caller.close()
		if l.callee, err = newUA(sys.sip, calleeUser); err != nil {
			rep.failf("%s: %v", name, err)
			return
		}
		defer l.callee.close()
		l.calleeUser = calleeUser
		l.callee.onRequest = l.onCalleeRequest
		if err := l.callee.register(ctx); err != nil {
			rep.failf("%s: callee register: %v", name, err)
			return
		}
	}
	if l.poll, err = newPoller(); err != nil {
		rep.failf("%s: %v", name, err)
		return
	}
	defer l.poll.close()
	l.pacer = newPacer(l.poll)
	defer l.pacer.close()
	baseRSS := tree.rssKB()
	for _, n := range steps {
		if ctx.Err() != nil {
			break
		}
		setupFailed := 0
		setupStart := time.Now()
		for len(l.calls) < n && time.Since(setupStart) < 60*time.Second && setupFailed <= n/100 {
			if err := l.addCall(ctx); err != nil {
				setupFailed++
				if setupFailed == 1 {
					logf(log, "%s: call %d: %v", name, len(l.calls)+1, err)
					if rtpe != nil {
						logf(log, "rtpengine's last log lines:\n%s", rtpe.log.tail(2000))
					}
				}
			}
		}
		time.Sleep(settle)
		r := l.measure(ctx, cfg, log, sys, rtpe == nil, tree, fmt.Sprintf("%s-%d", name, n), window)
		r.setupFailed = setupFailed
		if sys != nil && len(sys.parts) > 0 {
			clusterMediaRow(t, sys, l, r)
		} else {
			perCallRSS := 0.0
			if r.calls > 0 {
				perCallRSS = float64(r.rss-baseRSS) / float64(r.calls)
			}
			notOurs := "—"
			if !transcode {
				notOurs = f2(100 * float64(l.ab.bad.Load()+l.ba.bad.Load()) / float64(max(1, l.ab.sent.Load()+l.ba.sent.Load())))
			}
			t.add(server, itoa(r.calls), itoa(setupFailed), f0(r.pct), f2(r.perCall()), f0(float64(r.rss)/1024), f0(perCallRSS),
				f2(r.lossAB), f2(r.lossBA), notOurs, r.latency(r.latAB), r.latency(r.latBA), f0(r.gpct), f2(r.gpct/float64(max(1, r.calls))), f0(r.busy), itoa(int(r.late)))
		}
		logf(log, "%s %s %d calls: cpu %.0f%% rss %d MiB loss %.2f/%.2f%% lat p50/p99 %.2f/%.2f ms bad %d/%d dropped %d gen %.0f%%",
			server, name, r.calls, r.pct, r.rss/1024, r.lossAB, r.lossBA, r.latAB[0], r.latAB[1], l.ab.bad.Load(), l.ba.bad.Load(), l.dropped.Load(), r.gpct)
		if cfg.short {
			if setupFailed > 0 || r.calls < n {
				rep.failf("%s: %d of %d calls set up", name, r.calls, n)
			}
			if l.ab.recv.Load() == 0 || l.ba.recv.Load() == 0 {
				rep.failf("%s: no audio in one direction (A→B %d packets, B→A %d)", name, l.ab.recv.Load(), l.ba.recv.Load())
			}
		}
		if d := l.dropped.Load(); d > 0 {
			rep.failf("%s %s: %d calls dropped during the run", server, name, d)
			break
		}
		if setupFailed > n/100 || r.lossAB > 1 || r.lossBA > 1 || r.latAB[1] > 250 || r.latBA[1] > 250 {
			break // quality degraded: the ceiling is found
		}
		if r.late > int64(window/time.Millisecond)/50 {
			t.notes = append(t.notes, fmt.Sprintf("%s %s stopped at %d calls: the load generator itself ran late (%d ticks), so higher steps would measure the generator.", server, name, r.calls, r.late))
			break
		}
		best = r.calls
	}
	if l.split > 0 { // read after the last call was set up, on this goroutine
		rep.failf("%s %s: %d calls had their two legs on different media addresses (the media must stay on the node that took the call)", server, name, l.split)
	}
	if failed := l.hangupAll(ctx); failed > 0 {
		msg := fmt.Sprintf("%s %s: %d hang-ups failed", server, name, failed)
		if cfg.short {
			rep.failf("%s", msg)
		}
		t.notes = append(t.notes, msg)
	}
	return best
}

func lossPct(c *counters) float64 {
	s, r := c.sent.Load(), c.recv.Load()
	if s == 0 {
		return 0
	}
	return max(0, 100*float64(s-r)/float64(s))
}

// stepResult is what one step of a media ramp measured.
type stepResult struct {
	calls, setupFailed int
	pct, gpct, busy    float64 // CPU % of one core: the server(s), the generator, the machine
	rss                int64   // KiB, the server(s)
	lossAB, lossBA     float64
	latAB, latBA       []float64 // p50, p99 ms
	late               int64
	parts              []float64 // CPU % of one core of each of the system's parts (a cluster)
}

func (r stepResult) perCall() float64 {
	if r.calls == 0 {
		return 0
	}
	return r.pct / float64(r.calls)
}

func (r stepResult) latency(l []float64) string { return fmt.Sprintf("%s / %s", f2(l[0]), f2(l[1])) }

// measure resets the counters, measures for window what the calls up now
// do (the server tree, each of sys's parts, the generator, the machine)
// and returns it.
func (l *mediaLoad) measure(ctx context.Context, cfg config, log io.Writer, sys *system, profile bool, tree procTree, label string, window time.Duration) stepResult {
	l.ab.reset()
	l.ba.reset()
	late0 := l.pacer.late.Load()
	self := procTree{root: os.Getpid(), alone: true} // the generator, not the servers it started
	m, mg := startCPU(tree), startCPU(self)
	var pm []*cpuMeter
	if sys != nil {
		for _, p := range sys.parts {
			pm = append(pm, startCPU(p.tree))
		}
	}
	prof := profileWindow(ctx, cfg, log, profile, sys, label, window)
	time.Sleep(window)
	prof()
	var r stepResult
	_, r.pct = m.stop()
	_, r.gpct = mg.stop()
	for _, p := range pm {
		_, pct := p.stop()
		r.parts = append(r.parts, pct)
	}
	r.busy = m.machine()
	l.mu.Lock()
	r.calls = len(l.calls)
	l.mu.Unlock()
	r.rss = tree.rssKB()
	r.lossAB, r.lossBA = lossPct(&l.ab), lossPct(&l.ba)
	_, r.latAB = l.ab.lat.percentiles(50, 99)
	_, r.latBA = l.ba.lat.percentiles(50, 99)
	r.late = l.pacer.late.Load() - late0
	return r
}
