package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/callstory"
)

// TestStoryJSONMediaTimes: `call show --json` gives each leg's times as
// seconds from the call's first message, null for what never happened;
// the ICE object only for a browser leg, the timeout only when one came.
func TestStoryJSONMediaTimes(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	st := callstory.Story{CallID: "c", Legs: []string{"c"}, Entries: []callstory.Entry{{At: t0, Leg: "A", In: true, FirstLine: "INVITE sip:2000@h SIP/2.0"}},
		Media: []callstory.LegMedia{
			{Leg: "A", Kind: "webrtc", ICEKnown: true, ICEChecks: 2, ICEFirstCheck: at(500), FirstRTPOut: at(750)},
			{Leg: "B", Kind: "rtp", FirstRTPIn: at(250), FirstRTPOut: at(260), MediaFailedAt: at(30250), MediaFailure: "no RTP for 30s"},
		}}
	raw, err := storyJSON(st, nil, at(40000))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Media []map[string]json.RawMessage `json:"media"`
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil || len(got.Media) != 2 {
		t.Fatalf("%v:\n%s", err, raw)
	}
	a, b := got.Media[0], got.Media[1]
	for _, c := range []struct {
		m         map[string]json.RawMessage
		key, want string
	}{
		{a, "first_rtp_in_seconds", "null"},
		{a, "first_rtp_out_seconds", "0.75"},
		{b, "first_rtp_in_seconds", "0.25"},
		{b, "first_rtp_out_seconds", "0.26"},
	} {
		if string(c.m[c.key]) != c.want {
			t.Errorf("%s = %s, want %s:\n%s", c.key, c.m[c.key], c.want, raw)
		}
	}
	var ice struct {
		Checks     uint64   `json:"checks"`
		FirstCheck *float64 `json:"first_check_seconds"`
		DTLSUp     *float64 `json:"dtls_connected_seconds"`
	}
	if err := json.Unmarshal(a["ice"], &ice); err != nil || ice.Checks != 2 || ice.FirstCheck == nil || *ice.FirstCheck != 0.5 || ice.DTLSUp != nil {
		t.Errorf("leg A's ice %s (%v)", a["ice"], err)
	}
	if _, ok := b["ice"]; ok {
		t.Errorf("leg B (rtp) has an ice object:\n%s", raw)
	}
	if _, ok := a["media_timeout"]; ok {
		t.Errorf("leg A has a media timeout:\n%s", raw)
	}
	var to struct {
		At     float64 `json:"at_seconds"`
		Reason string  `json:"reason"`
	}
	if err := json.Unmarshal(b["media_timeout"], &to); err != nil || to.At != 30.25 || to.Reason != "no RTP for 30s" {
		t.Errorf("leg B's media timeout %s (%v)", b["media_timeout"], err)
	}
}
