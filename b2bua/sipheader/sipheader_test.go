package sipheader

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

const register = "REGISTER sip:h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:1001@h>;tag=1\r\n" +
	"To: <sip:1001@h>\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\nUser-Agent: phone\r\nExpires: 60\r\n" +
	"Authorization: Digest username=\"1001\"\r\nAUTHORIZATION: Digest username=\"1002\"\r\nContact: <sip:1001@127.0.0.1:5060>\r\n" +
	"Content-Length: 0\r\n\r\n"

func parse(t testing.TB) *sip.Request {
	t.Helper()
	m, err := sip.ParseMessage([]byte(register))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Request)
}

func TestLookups(t *testing.T) {
	req := parse(t)
	if h := Get(req, "authorization"); h == nil || h.Value() != `Digest username="1001"` {
		t.Fatalf("Get: %v", h)
	}
	if h := Get(req, "EXPIRES"); h == nil || h.Value() != "60" {
		t.Fatalf("Get any case: %v", h)
	}
	if Has(req, "Proxy-Authorization") || Get(req, "Proxy-Authorization") != nil {
		t.Fatal("found a header that is not there")
	}
	if n := Count(req, "Authorization"); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
	if all := All(req, "authorization"); len(all) != 2 || all[1].Value() != `Digest username="1002"` {
		t.Fatalf("All: %v", all)
	}
	if All(req, "Require") != nil {
		t.Fatal("All of an absent header is not nil")
	}
	// The same answers as sipgo's own lookups.
	for _, name := range []string{"Authorization", "user-agent", "Contact", "Via", "content-length", "X-None"} {
		if got, want := Count(req, name), len(req.GetHeaders(name)); got != want {
			t.Errorf("Count(%q) = %d, sipgo finds %d", name, got, want)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	req := parse(t)
	n := testing.AllocsPerRun(100, func() {
		_ = Get(req, "Authorization")
		_ = Count(req, "Content-Length")
		_ = Has(req, "Require")
		_ = All(req, "Require")
	})
	if n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// What a lookup costs: sipgo's lower-cases the names it passes.
func BenchmarkGetHeader(b *testing.B) {
	req := parse(b)
	b.Run("sipgo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = req.GetHeader("Authorization")
		}
	})
	b.Run("sipheader", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Get(req, "Authorization")
		}
	})
}
