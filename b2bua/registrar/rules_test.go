package registrar

import (
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
)

func TestApply(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	lim := Limits{MinExpires: 60, MaxExpires: 3600, DefaultExpires: 600, MaxContacts: 2}.withDefaults()
	existing := func(uri, instance, callID string, cseq uint32) binding {
		return binding{Binding: store.Binding{Ext: "1001", Contact: uri, Instance: instance, CallID: callID, CSeq: cseq, Expires: now.Add(time.Hour)}}
	}
	a := existing("sip:1001@10.0.0.1:5060", "", "call-a", 5)
	dev := existing("sip:1001@10.0.0.2:5060", `"<urn:uuid:1>"`, "call-d", 1)
	tests := []struct {
		name        string
		cur         []binding
		upd         update
		wantCode    int
		wantURIs    []string
		wantExpires []time.Duration
		wantRemoved int
	}{
		{name: "new binding, default expiry", upd: update{contacts: []contact{{uri: "sip:x@h", expires: -1}}},
			wantURIs: []string{"sip:x@h"}, wantExpires: []time.Duration{600 * time.Second}},
		{name: "ephemeral credentials end first", upd: update{contacts: []contact{{uri: "sip:x@h", expires: 600}}, until: now.Add(90 * time.Second)},
			wantURIs: []string{"sip:x@h"}, wantExpires: []time.Duration{90 * time.Second}},
		{name: "ephemeral credentials outlive the binding", upd: update{contacts: []contact{{uri: "sip:x@h", expires: 600}}, until: now.Add(24 * time.Hour)},
			wantURIs: []string{"sip:x@h"}, wantExpires: []time.Duration{600 * time.Second}},
		{name: "too brief", upd: update{contacts: []contact{{uri: "sip:x@h", expires: 30}}}, wantCode: 423},
		{name: "capped at max", upd: update{contacts: []contact{{uri: "sip:x@h", expires: 99999}}},
			wantURIs: []string{"sip:x@h"}, wantExpires: []time.Duration{time.Hour}},
		{name: "refresh same contact", cur: []binding{a}, upd: update{callID: "call-a", cseq: 6, contacts: []contact{{uri: a.Contact, expires: 120}}},
			wantURIs: []string{a.Contact}, wantExpires: []time.Duration{120 * time.Second}},
		{name: "out of order cseq", cur: []binding{a}, upd: update{callID: "call-a", cseq: 5, contacts: []contact{{uri: a.Contact, expires: 120}}}, wantCode: 500},
		{name: "second device adds", cur: []binding{a}, upd: update{callID: "other", cseq: 1, contacts: []contact{{uri: "sip:1001@10.0.0.9", expires: 120}}},
			wantURIs: []string{a.Contact, "sip:1001@10.0.0.9"}},
		{name: "unregister one", cur: []binding{a, dev}, upd: update{callID: "call-a", cseq: 9, contacts: []contact{{uri: a.Contact, expires: 0}}},
			wantURIs: []string{dev.Contact}, wantRemoved: 1},
		{name: "unregister unknown is fine", cur: []binding{a}, upd: update{callID: "z", cseq: 1, contacts: []contact{{uri: "sip:nobody@h", expires: 0}}},
			wantURIs: []string{a.Contact}},
		{name: "instance replaces old address", cur: []binding{a, dev}, upd: update{callID: "new", cseq: 1, contacts: []contact{{uri: "sip:1001@10.0.0.3:5062", expires: 300, instance: `"<urn:uuid:1>"`}}},
			wantURIs: []string{a.Contact, "sip:1001@10.0.0.3:5062"}, wantRemoved: 1},
		{name: "too many contacts", cur: []binding{a, dev}, upd: update{callID: "n", cseq: 1, contacts: []contact{{uri: "sip:third@h", expires: 300}}}, wantCode: 403},
		{name: "star removes all", cur: []binding{a, dev}, upd: update{callID: "s", cseq: 1, star: true}, wantRemoved: 2},
		{name: "star with contacts", cur: []binding{a}, upd: update{star: true, contacts: []contact{{uri: "sip:x@h"}}}, wantCode: 400},
		{name: "star out of order", cur: []binding{a}, upd: update{callID: "call-a", cseq: 1, star: true}, wantCode: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.upd.ext, tt.upd.now = "1001", now
			cur := append([]binding(nil), tt.cur...)
			next, removed, rej := apply(cur, tt.upd, lim)
			if tt.wantCode != 0 {
				if rej == nil || rej.code != tt.wantCode {
					t.Fatalf("rejection = %+v, want %d", rej, tt.wantCode)
				}
				if tt.wantCode == 423 && (len(rej.headers) != 2 || rej.headers[0] != "Min-Expires" || rej.headers[1] != "60") {
					t.Fatalf("423 headers = %v", rej.headers)
				}
				return
			}
			if rej != nil {
				t.Fatalf("unexpected rejection %+v", rej)
			}
			if len(next) != len(tt.wantURIs) {
				t.Fatalf("bindings = %+v, want %v", next, tt.wantURIs)
			}
			for i, u := range tt.wantURIs {
				if next[i].Contact != u {
					t.Fatalf("binding %d = %s, want %s", i, next[i].Contact, u)
				}
			}
			for i, d := range tt.wantExpires {
				if got := next[i].Expires.Sub(now); got != d {
					t.Fatalf("binding %d expires in %v, want %v", i, got, d)
				}
			}
			if len(removed) != tt.wantRemoved {
				t.Fatalf("removed %d, want %d", len(removed), tt.wantRemoved)
			}
			for i := range tt.cur {
				if cur[i] != tt.cur[i] {
					t.Fatal("apply modified its input")
				}
			}
		})
	}
}

func TestLimitsDefaults(t *testing.T) {
	l := Limits{MinExpires: 600, MaxExpires: 100, DefaultExpires: 5}.withDefaults()
	if l.MaxExpires != 600 || l.DefaultExpires != 600 || l.MaxContacts != 10 {
		t.Fatalf("limits = %+v", l)
	}
}
