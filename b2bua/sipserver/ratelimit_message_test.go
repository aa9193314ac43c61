package sipserver

import (
	"log/slog"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// MESSAGE has the INVITE limit per source, in a bucket of its own, and its
// refusals are not counted as INVITE or REGISTER refusals.
func TestLimiterMessage(t *testing.T) {
	l, _ := newTestLimiter(RateLimits{Invite: RateLimit{Rate: 1, Burst: 3}}, slog.New(slog.DiscardHandler))
	req := sip.NewRequest(sip.MESSAGE, sip.Uri{Scheme: "sip", User: "1002", Host: "192.0.2.9"})
	req.AppendHeader(&sip.ToHeader{Address: req.Recipient, Params: sip.NewParams()})
	if !l.applies(req) {
		t.Fatal("an out-of-dialog MESSAGE is not limited")
	}
	for i := range 3 {
		if ok, _ := l.allow("192.0.2.1", sip.MESSAGE, uint64(i+1)); !ok {
			t.Fatalf("MESSAGE %d of the burst refused", i+1)
		}
	}
	if ok, _ := l.allow("192.0.2.1", sip.MESSAGE, 10); ok {
		t.Fatal("MESSAGE over the burst allowed")
	}
	if ok, _ := l.allow("192.0.2.1", sip.INVITE, 11); !ok {
		t.Fatal("INVITE shares the MESSAGE bucket")
	}
	if l.refusedInvite.Load() != 0 || l.refusedRegister.Load() != 0 {
		t.Fatal("a MESSAGE refusal was counted as INVITE or REGISTER")
	}
}
