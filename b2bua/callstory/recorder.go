package callstory

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/softswitch/softswitch/b2bua/siptrace"
	"github.com/softswitch/softswitch/media/stream"
)

// Limits that bound a Recorder's memory whatever the traffic.
const (
	DefaultHistory = 1000    // calls kept
	maxEntries     = 200     // messages kept per call
	maxSDP         = 4 << 10 // bytes of one SDP kept
	maxLegs        = 64      // legs (and media endpoints) kept per call
)

// Entry is one SIP message of a call.
type Entry struct {
	At        time.Time
	Leg       string // "A", "B1", "B2", ...
	In        bool   // received by the softswitch
	Transport string
	Remote    string
	FirstLine string
	Method    string // request method, or a response's CSeq method
	Status    int    // 0 for a request
	SDP       string // the message's SDP body, if any
	Closed    bool   // not a message: the leg's connection closed
	CloseCode int    // of a closed WebSocket (RFC 6455 §7.4): the browser's close frame's, 1006 without one; 0: closed by us, or not a WebSocket
}

// Story is what was recorded of one call.
type Story struct {
	CallID  string   // leg A's Call-ID: the call's id
	Legs    []string // Call-IDs, leg A first, then B1, B2, ...
	Entries []Entry
	Dropped int        // messages past maxEntries
	Media   []LegMedia // per media endpoint, once known
}

// Recorder keeps the stories of the last calls. Its methods are safe for
// concurrent use.
type Recorder struct {
	max int

	mu      sync.Mutex
	stories map[string]*Story    // by leg A's Call-ID
	order   []string             // leg A Call-IDs, oldest first
	legs    map[string]legRef    // any leg's Call-ID -> its call
	dirty   map[string]bool      // calls changed since a Keeper last archived them
	touched map[string]bool      // calls changed since the Keeper's last tick (not settled yet)
	since   map[string]time.Time // when a dirty call first changed
	ended   map[string]time.Time // calls over (SetMedia), when they ended
}

// endedInMemory is how long a Keeper leaves an ended call's archived story
// in memory (for the last retransmissions of its final messages) before
// `call show` reads it from the archive only.
const endedInMemory = 20 * time.Second

type legRef struct{ call, name string }

// A story's entries start with room for what a challenged or refused
// INVITE brings (INVITE, 407, ACK) and then grow at once to what a whole
// call needs (a bridged call with auth: 15-20 messages on its two legs).
const (
	entriesFirst = 4
	entriesGrown = 24
)

// NewRecorder keeps the last max calls (DefaultHistory when max <= 0).
func NewRecorder(max int) *Recorder {
	if max <= 0 {
		max = DefaultHistory
	}
	return &Recorder{max: max, stories: make(map[string]*Story), legs: make(map[string]legRef), dirty: make(map[string]bool),
		touched: make(map[string]bool), since: make(map[string]time.Time),
		ended: make(map[string]time.Time)}
}

// History is how many calls the recorder keeps.
func (r *Recorder) History() int { return r.max }

// Observe records m when it belongs to a call: an INVITE received starts
// a story (leg A), and the legs Link names join it.
func (r *Recorder) Observe(m siptrace.Message, s siptrace.Summary) {
	if !s.HasCallID() || !dialogMethod(s.Method) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, ok := r.legs[string(s.CallIDBytes())]
	if !ok {
		if !m.In || s.Method != "INVITE" || s.Status != 0 {
			return
		}
		callID := s.CallID()
		ref = legRef{call: callID, name: "A"}
		r.startLocked(callID)
	}
	st := r.stories[ref.call]
	if st == nil {
		return
	}
	r.changedLocked(ref.call)
	if len(st.Entries) >= maxEntries {
		st.Dropped++
		return
	}
	if len(st.Entries) == cap(st.Entries) {
		// Room for entriesGrown at the first growth, then doubling, not
		// 1, 2, 4, 8, 16, 32 (issue 20).
		st.Entries = slices.Grow(st.Entries, max(entriesGrown-len(st.Entries), len(st.Entries)))
	}
	st.Entries = append(st.Entries, Entry{At: m.Time, Leg: ref.name, In: m.In, Transport: m.Transport, Remote: m.Remote,
		FirstLine: s.FirstLine(), Method: s.Method, Status: s.Status, SDP: sdpOf(m.Data)})
}

func (r *Recorder) startLocked(callID string) {
	if len(r.order) >= r.max {
		old := r.order[0]
		r.order = r.order[1:]
		if st := r.stories[old]; st != nil {
			for _, l := range st.Legs {
				delete(r.legs, l)
			}
		}
		delete(r.stories, old)
		delete(r.dirty, old)
		delete(r.touched, old)
		delete(r.since, old)
		delete(r.ended, old)
	}
	r.stories[callID] = &Story{CallID: callID, Legs: []string{callID}, Entries: make([]Entry, 0, entriesFirst)}
	r.order = append(r.order, callID)
	r.legs[callID] = legRef{call: callID, name: "A"}
}

// Link joins an outbound leg (its Call-ID) to the call callID.
func (r *Recorder) Link(callID, branchCallID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.stories[callID]
	if st == nil || len(st.Legs) >= maxLegs {
		return
	}
	st.Legs = append(st.Legs, branchCallID)
	r.changedLocked(callID)
	r.legs[branchCallID] = legRef{call: callID, name: "B" + strconv.Itoa(len(st.Legs)-1)}
}

// Story returns a copy of a call's story.
func (r *Recorder) Story(callID string) (Story, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, ok := r.legs[callID] // any leg's Call-ID finds its call
	if !ok {
		return Story{}, false
	}
	st := r.stories[ref.call]
	if st == nil {
		return Story{}, false
	}
	return st.clone(), true
}

// snapshot is a copy of the story for the Keeper to encode outside the
// lock: it shares the arrays of Legs, Entries and Media, capped at their
// length. That is safe because a story only ever appends to them (or
// replaces Media whole), never writes an element in place: whatever is
// appended later lies beyond the snapshot's length (issue 20: the
// archive's full copies were 3 KB a call).
func (st *Story) snapshot() Story {
	out := *st
	out.Legs = st.Legs[:len(st.Legs):len(st.Legs)]
	out.Entries = st.Entries[:len(st.Entries):len(st.Entries)]
	out.Media = st.Media[:len(st.Media):len(st.Media)]
	return out
}

func (st *Story) clone() Story {
	out := *st
	out.Legs = append([]string(nil), st.Legs...)
	out.Entries = append([]Entry(nil), st.Entries...)
	out.Media = append([]LegMedia(nil), st.Media...)
	return out
}

// takeChanged returns snapshots of the stories changed since the last call,
// oldest first, and forgets that they changed.
func (r *Recorder) takeChanged() []Story {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.dirty) == 0 {
		return nil
	}
	out := make([]Story, 0, len(r.dirty))
	for _, id := range r.order {
		if r.dirty[id] {
			out = append(out, r.stories[id].snapshot())
		}
	}
	clear(r.dirty)
	clear(r.touched)
	clear(r.since)
	return out
}

// settleWait bounds how long a call that keeps changing waits for its
// archive.
const settleWait = 5 * time.Second

// takeSettled is takeChanged for the calls whose story settled: not
// changed since the last tick, or ended, or changing for settleWait. A
// call's messages come in bursts (set-up, then its end), so a story is
// archived about once per burst rather than once per second while it
// changes (issue 20: the archive was a tenth of a call's set-up CPU).
func (r *Recorder) takeSettled(now time.Time) []Story {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer clear(r.touched)
	if len(r.dirty) == 0 {
		return nil
	}
	var out []Story
	for _, id := range r.order {
		if !r.dirty[id] {
			continue
		}
		_, ended := r.ended[id]
		if r.touched[id] && !ended && now.Sub(r.since[id]) < settleWait {
			continue
		}
		out = append(out, r.stories[id].snapshot())
		delete(r.dirty, id)
		delete(r.since, id)
	}
	return out
}

// changedLocked notes that call id's story changed.
func (r *Recorder) changedLocked(id string) {
	r.dirty[id] = true
	r.touched[id] = true
	if _, ok := r.since[id]; !ok {
		r.since[id] = time.Now()
	}
}

// markChanged notes again that the calls ids changed (their archiving
// failed), for those still kept.
func (r *Recorder) markChanged(ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if r.stories[id] != nil {
			r.dirty[id] = true
		}
	}
}

// dialogMethod tells the methods of an INVITE dialog from the others
// (REGISTER, OPTIONS, ...), which never start or join a story.
func dialogMethod(m string) bool {
	switch m {
	case "INVITE", "ACK", "BYE", "CANCEL", "PRACK", "UPDATE", "INFO", "REFER":
		return true
	}
	return false
}

// sdpOf returns the body of data when it is an SDP, shortened to maxSDP.
func sdpOf(data []byte) string {
	i := bytes.Index(data, []byte("\r\n\r\n"))
	if i < 0 {
		return ""
	}
	body := data[i+4:]
	if !bytes.HasPrefix(body, []byte("v=0")) {
		return ""
	}
	if len(body) > maxSDP {
		body = body[:maxSDP]
	}
	return string(body)
}

// ConnClosed notes that a stream connection (TCP, TLS, WS, WSS) closed,
// on every answered leg that ran over it and had not ended with a BYE;
// wsCode tells how a WebSocket ended (see Entry.CloseCode).
func (r *Recorder) ConnClosed(transport, remote string, wsCode int) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, st := range r.stories {
		for _, leg := range st.legsOver(transport, remote) {
			if len(st.Entries) < maxEntries {
				line := "(" + strings.ToUpper(transport) + " connection closed)"
				if wsCode != 0 {
					line = fmt.Sprintf("(%s connection closed, code %d)", strings.ToUpper(transport), wsCode)
				}
				st.Entries = append(st.Entries, Entry{At: now, Leg: leg, In: true, Transport: transport, Remote: remote,
					FirstLine: line, Closed: true, CloseCode: wsCode})
				r.changedLocked(st.CallID)
			}
		}
	}
}

// legsOver names the legs carried by the connection transport/remote
// that were answered and have not ended.
func (st *Story) legsOver(transport, remote string) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range st.Entries {
		if seen[e.Leg] {
			continue
		}
		seen[e.Leg] = true
		if e.Transport == transport && e.Remote == remote && st.answeredAndOpen(e.Leg) {
			out = append(out, e.Leg)
		}
	}
	return out
}

func (st *Story) answeredAndOpen(leg string) bool {
	answered := false
	for _, e := range st.Entries {
		if e.Leg != leg {
			continue
		}
		switch {
		case e.Closed, e.Method == "BYE" && e.Status == 0:
			return false
		case e.Method == "INVITE" && e.Status == 200:
			answered = true
		}
	}
	return answered
}

// LegMedia is what one leg's media endpoint counted.
type LegMedia struct {
	Leg             string // "A", "B"
	Kind            string // "rtp" or "webrtc"
	PacketsSent     uint64
	PacketsReceived uint64
	Concealed       uint64 // frames the decoder had to conceal (loss)
	Stray           uint64 // packets dropped as malformed or unexpected
	SendErrors      uint64 // packets the transport refused (not connected)
	Lost            uint64 // sequence numbers never played
	Late            uint64 // packets that came after their time
	Decoded         uint64 // received packets decoded (transcoded or played)
	Relayed         uint64 // received payloads passed through undecoded
	// RFC 3550 receive quality of what the leg's peer sent.
	Expected uint64  // packets its sequence numbers say it sent
	Missing  uint64  // of those, never received
	JitterMs float64 // interarrival jitter
	RTTMs    float64 // round trip from its last reception report; 0: none came
	// RTCP: packets sent and read, the peer's reception reports about us
	// and how many of them gave a round trip (named our sender report).
	RTCPSent, RTCPReceived uint64
	Reports, ReportsTimed  uint64
	// How far a browser's transport got (Kind "webrtc", when ICEKnown):
	// connectivity checks answered, the selected pair's remote address,
	// DTLS-SRTP up.
	ICEKnown   bool
	ICEChecks  uint64
	ICEPeer    string
	ICEDropped uint64 // datagrams refused: malformed, failing STUN integrity or SRTP auth, or from elsewhere
	DTLSRole   string // ours: "client" or "server" once the handshake started
	DTLSUp     bool
	// When (zero: never, or not known): the first RTP packet from the
	// peer and the first to it; a browser's first connectivity check and
	// DTLS-SRTP up; the first RTP timeout or media failure, and why.
	FirstRTPIn, FirstRTPOut time.Time
	ICEFirstCheck, DTLSUpAt time.Time
	MediaFailedAt           time.Time
	MediaFailure            string
	// Video relayed between two browsers (Kind "webrtc"): packets from
	// the peer and to it, the peer's packets not relayed (the other leg
	// not ready), and RTCP feedback (PLI, FIR, NACK, REMB, reports) from
	// the peer relayed on and relayed to it.
	VideoIn, VideoOut, VideoDropped   uint64
	VideoFeedbackIn, VideoFeedbackOut uint64
}

// LossPercent is the share of the packets the peer sent that never came.
func (m LegMedia) LossPercent() float64 { return stream.LossPercent(m.Missing, m.Expected) }

// SetMedia records the media counters of a call's legs (at its end). The
// story keeps m itself: the caller must not change it afterwards.
func (r *Recorder) SetMedia(callID string, m []LegMedia) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st := r.stories[callID]; st != nil {
		st.Media = m[:len(m):len(m)]
		r.changedLocked(callID)
		r.ended[callID] = time.Now()
	}
}

// forgetArchived drops from memory the stories of calls that ended at
// least after ago and are archived as they stand (not changed since); a
// Keeper calls it after archiving, the archive then tells them.
func (r *Recorder) forgetArchived(now time.Time, after time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	gone := 0
	for id, at := range r.ended {
		if now.Sub(at) < after || r.dirty[id] {
			continue
		}
		if st := r.stories[id]; st != nil {
			for _, l := range st.Legs {
				delete(r.legs, l)
			}
		}
		delete(r.stories, id)
		delete(r.ended, id)
		gone++
	}
	if gone > 0 {
		r.order = slices.DeleteFunc(r.order, func(id string) bool { return r.stories[id] == nil })
	}
}
