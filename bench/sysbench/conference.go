package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// confMember is one participant of the conference stage: an emulated
// browser (Opus, DTLS-SRTP) or a PCMU phone, in a call to its room.
type confMember struct {
	room string
	dlg  *dialog
	rtp  *rtpStream
	br   *browser
}

func (m *confMember) close() {
	if m.rtp != nil {
		m.rtp.close()
	}
	if m.br != nil {
		m.br.close()
	}
}

// confRoomSize is how many participants share a room.
const confRoomSize = 10

// confStage fills rooms of 10 (half browsers, half phones, everyone
// sending audio) with more and more participants, and measures the
// server's CPU and the loss of what the rooms send their members.
func confStage(ctx context.Context, cfg config, rep *report, log io.Writer, sys *system) {
	steps := []int{20, 50, 100, 150, 200}
	settle, window := mediaTimes(cfg)
	if cfg.short {
		steps = []int{10}
	}
	if cfg.steps["conference"] != nil {
		steps = cfg.steps["conference"]
	}
	t := rep.table(fmt.Sprintf("Conference rooms of %d: half emulated browsers (Opus 48 kHz, DTLS-SRTP), half PCMU phones, all sending audio", confRoomSize),
		"system", "participants", "rooms", "setup failed", "CPU % of one core", "CPU % per participant", "RSS MiB",
		"loss to members %", "generator CPU %", "machine busy %", "late ticks")
	t.notes = append(t.notes, fmt.Sprintf("Each step adds participants (one call each, to sip:conf-rN), waits %v, then measures for %v. "+
		"Every member sends a packet each 20 ms (browsers: a tone each second; phones: speech each second), and every member gets "+
		"one back each 20 ms from its room's mixer (the N-1 mix, silence included): loss to members = 1 − packets the members "+
		"received / (members × window / 20 ms). The rooms mix at 16 kHz; the browsers' legs run Opus at 16 kHz, the phones' G.711 at 8 kHz.", settle, window))
	cert, err := newCertificate()
	var opus, speech [][]byte
	if err == nil {
		opus, err = opusCycle()
	}
	if err == nil {
		speech, err = speechCycle()
	}
	if err != nil {
		rep.failf("conference: %v", err)
		return
	}
	caller, err := newUA(sys.sip, sys.users[len(sys.users)-8])
	if err != nil {
		rep.failf("conference: %v", err)
		return
	}
	defer caller.close()
	poll, err := newPoller()
	if err != nil {
		rep.failf("conference: %v", err)
		return
	}
	defer poll.close()
	pacer := newPacer(poll)
	defer pacer.close()
	var up, down counters
	var members []*confMember
	defer func() {
		pacer.clear()
		for _, m := range members {
			if m.dlg != nil {
				_ = m.dlg.bye(ctx, m.room)
			}
			m.close()
		}
	}()
	add := func(i int) error {
		m := &confMember{room: fmt.Sprintf("conf-r%d", i/confRoomSize)}
		var offer []byte
		if i%2 == 0 {
			if m.br, err = newBrowser(poll, cert, opus, &up, &down); err != nil {
				return err
			}
			if offer, err = m.br.offer(ctx); err != nil {
				m.close()
				return err
			}
		} else {
			if m.rtp, err = newRTPStream(poll, &up, &down, false); err != nil {
				return err
			}
			m.rtp.audio = speech
			offer = pcmuSDP(m.rtp.port())
		}
		dlg, answer, err := caller.invite(ctx, m.room, offer)
		if err != nil {
			m.close()
			return err
		}
		m.dlg = dlg
		members = append(members, m)
		if m.br != nil {
			if err := m.br.accept(ctx, answer); err != nil {
				return err
			}
			pacer.add(m.br)
			return nil
		}
		ip, port, err := sdpAudio(answer)
		if err == nil {
			err = m.rtp.setRemote(ip, port)
		}
		if err != nil {
			return err
		}
		pacer.add(m.rtp)
		return nil
	}
	self := procTree{root: os.Getpid(), alone: true}
	for _, n := range steps {
		if ctx.Err() != nil {
			break
		}
		failed := 0
		start := time.Now()
		for len(members) < n && time.Since(start) < 60*time.Second && failed <= n/100 {
			if err := add(len(members)); err != nil {
				failed++
				if failed == 1 {
					logf(log, "conference: participant %d: %v", len(members)+1, err)
				}
			}
		}
		time.Sleep(settle)
		up.reset()
		down.reset()
		t0 := time.Now()
		late0 := pacer.late.Load()
		m, mg := startCPU(sys.tree), startCPU(self)
		prof := profileWindow(ctx, cfg, log, true, sys, fmt.Sprintf("conference-%d", n), window)
		time.Sleep(window)
		prof()
		_, pct := m.stop()
		_, gpct := mg.stop()
		busy := m.machine()
		sent, recv := up.sent.Load(), down.recv.Load()
		k := len(members)
		// The mixers send each member a frame per 20 ms whatever the
		// members sent (the generator may skip frames when late).
		expected := float64(k) * float64(time.Since(t0)) / float64(20*time.Millisecond)
		loss := max(0, 100*(1-float64(recv)/expected))
		late := pacer.late.Load() - late0
		rss := sys.tree.rssKB()
		t.add("softswitch", itoa(k), itoa((k+confRoomSize-1)/confRoomSize), itoa(failed), f0(pct), f2(pct/float64(max(1, k))),
			f0(float64(rss)/1024), f2(loss), f0(gpct), f0(busy), itoa(int(late)))
		logf(log, "conference %d participants: cpu %.0f%% loss %.2f%% (sent %d, received %d) gen %.0f%% late %d", k, pct, loss, sent, recv, gpct, late)
		if cfg.short && (failed > 0 || k < n || recv == 0) {
			rep.failf("conference: %d of %d participants, %d packets received", k, n, recv)
		}
		if failed > n/100 || loss > 1 {
			break
		}
		if late > int64(window/time.Millisecond)/50 {
			t.notes = append(t.notes, fmt.Sprintf("conference stopped at %d participants: the load generator itself ran late (%d ticks).", k, late))
			break
		}
	}
}
