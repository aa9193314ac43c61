package b2bua

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/dialplan"
)

// videoLeg is a fake browser leg: it offered (a caller) or accepted (a
// callee) codecs, and notes what the call does with its video.
type videoLeg struct {
	*fakeLeg
	codecs []string

	vmu      sync.Mutex
	accepted []string
	relayTo  []leg.Video // every RelayVideo, in order (nil: stopped)
}

func (v *videoLeg) VideoCodecs() []string { return v.codecs }

func (v *videoLeg) AcceptVideo(_ context.Context, codecs []string) error {
	v.note("accept video")
	v.vmu.Lock()
	defer v.vmu.Unlock()
	v.accepted = codecs
	return nil
}

func (v *videoLeg) RelayVideo(to leg.Video) {
	v.vmu.Lock()
	defer v.vmu.Unlock()
	v.relayTo = append(v.relayTo, to)
}

func (v *videoLeg) relays() []leg.Video {
	v.vmu.Lock()
	defer v.vmu.Unlock()
	return append([]leg.Video(nil), v.relayTo...)
}

// recordingDialer is a fakeDialer that keeps the options of each dial.
type recordingDialer struct {
	fakeDialer
	mu   sync.Mutex
	opts []leg.DialOptions
}

func (d *recordingDialer) Resolve(ctx context.Context, target string, o leg.DialOptions) ([]leg.Branch, error) {
	d.mu.Lock()
	d.opts = append(d.opts, o)
	d.mu.Unlock()
	return d.fakeDialer.Resolve(ctx, target, o)
}

// A caller offering video is bridged to a callee: the callee's branch is
// offered the caller's codecs; the caller's answer accepts what the
// callee accepted, before the 200; the bridge relays both ways and stops
// when it ends. A callee that takes no video leaves the caller's declined.
func TestBridgeVideo(t *testing.T) {
	for _, tc := range []struct {
		name       string
		callee     []string
		wantA      []string
		wantAccept []string
	}{
		{"callee takes video", []string{"H264"}, []string{"accept video", "answer", "peer hangup"}, []string{"H264"}},
		{"callee audio only", nil, []string{"answer", "peer hangup"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &videoLeg{fakeLeg: newFakeLeg("a"), codecs: []string{"VP8", "H264"}}
			b := &videoLeg{fakeLeg: newFakeLeg("b"), codecs: tc.callee}
			// The fake dialer resolves and records; videoDialer hands out b.
			d := &recordingDialer{fakeDialer: fakeDialer{targets: map[string]dialOutcome{"user/1002": {}}}}
			e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
				_, _, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{})
				return err
			}), videoDialer{d: d, leg: b}, &cdrSink{}, slog.New(slog.DiscardHandler))
			go func() {
				for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
					if h := a.history(); len(h) > 0 && h[len(h)-1] == "answer" {
						break
					}
				}
				time.Sleep(50 * time.Millisecond)
				a.peerHangup(leg.Normal)
			}()
			done := make(chan struct{})
			go func() {
				e.Serve(context.Background(), a, CallInfo{ID: "c1", Caller: "1001", Destination: "1002"})
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("call did not end")
			}
			if got := a.history(); !reflect.DeepEqual(got, tc.wantA) {
				t.Fatalf("leg A saw %q, want %q", got, tc.wantA)
			}
			if !reflect.DeepEqual(a.accepted, tc.wantAccept) {
				t.Fatalf("caller accepted video %v, want %v", a.accepted, tc.wantAccept)
			}
			if got := d.opts; len(got) != 1 || !reflect.DeepEqual(got[0].Video, []string{"VP8", "H264"}) {
				t.Fatalf("dial options %+v: the callee was not offered the caller's video", got)
			}
			ra, rb := a.relays(), b.relays()
			if len(ra) != 2 || ra[0] != leg.Video(b) || ra[1] != nil || len(rb) != 2 || rb[0] != leg.Video(a) || rb[1] != nil {
				t.Fatalf("relays: a %v, b %v; want each to the other, then stopped", ra, rb)
			}
		})
	}
}

// videoDialer dials leg for every target (the fake dialer's branches
// hand out a *fakeLeg).
type videoDialer struct {
	d   *recordingDialer
	leg *videoLeg
}

func (v videoDialer) Resolve(ctx context.Context, target string, o leg.DialOptions) ([]leg.Branch, error) {
	if _, err := v.d.Resolve(ctx, target, o); err != nil {
		return nil, err
	}
	return []leg.Branch{videoBranch{v.leg}}, nil
}

type videoBranch struct{ l *videoLeg }

func (b videoBranch) String() string { return "video" }
func (b videoBranch) Dial(context.Context, leg.DialOptions) (leg.Leg, error) {
	return b.l, nil
}
