package dialplan_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

// A fixed clock: Wednesday 2026-03-04 09:05:07 in UTC+1.
var fixedNow = time.Date(2026, 3, 4, 9, 5, 7, 0, time.FixedZone("CET", 3600))

func TestOSTimeAndDate(t *testing.T) {
	s := dialplantest.NewFakeSession("1001", "1002")
	path := writeScript(t, onCall(`call:set("time", os.time())
local d = os.date("*t")
call:set("t", string.format("%d-%d-%d %d:%d:%d wday=%d yday=%d dst=%s", d.year, d.month, d.day, d.hour, d.min, d.sec, d.wday, d.yday, tostring(d.isdst)))
call:set("fmt", os.date("%Y-%m-%d %H:%M:%S %a %A %b %B %j %w %y %I%p %Z %%"))
call:set("c", os.date())
call:set("utc", os.date("!%H:%M"))
call:set("at", os.date("%Y-%m-%d %H:%M", 0))
call:set("mk", os.time{year = 2026, month = 3, day = 4, hour = 9, min = 5, sec = 7})
call:set("noon", os.time{year = 2026, month = 3, day = 4} - os.time{year = 2026, month = 3, day = 4, hour = 0})
call:set("diff", os.difftime(10, 4))
call:set("clock", os.clock() >= 0 and "ok" or "negative")`))
	if err := dialplantest.RunAt(t, path, s, fixedNow); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := map[string]string{
		"time":  "1772611507",
		"t":     "2026-3-4 9:5:7 wday=4 yday=63 dst=false",
		"fmt":   "2026-03-04 09:05:07 Wed Wednesday Mar March 063 3 26 09AM CET %",
		"c":     "Wed Mar  4 09:05:07 2026",
		"utc":   "08:05",
		"at":    "1970-01-01 01:00",
		"mk":    "1772611507",
		"noon":  "43200",
		"diff":  "6",
		"clock": "ok",
	}
	got := s.Vars()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// Without a clock, os.time is the real time.
func TestOSTimeRealClock(t *testing.T) {
	s := dialplantest.NewFakeSession("1001", "1002")
	before := time.Now().Unix()
	if err := dialplantest.Run(t, writeScript(t, onCall(`call:set("now", os.time())`)), s); err != nil {
		t.Fatal(err)
	}
	var now int64
	for _, c := range s.Vars()["now"] {
		now = now*10 + int64(c-'0')
	}
	if now < before || now > time.Now().Unix() {
		t.Errorf("os.time() = %s, want between %d and now", s.Vars()["now"], before)
	}
}

func TestOSBadArguments(t *testing.T) {
	tests := []struct{ body, want string }{
		{`os.date(5)`, "os.date: format must be a string, got number"},
		{`os.date("%Q")`, "os.date: unsupported conversion %Q"},
		{`os.date("%")`, "os.date: format ends with %"},
		{`os.date(string.rep("x", 300))`, "os.date: format longer than 256 bytes"},
		{`os.date("%Y", "now")`, "os.date: time must be a number, got string"},
		{`os.date("%Y", 1e300)`, "os.date: time out of range"},
		{`os.date("%Y", 0/0)`, "os.date: time out of range"},
		{`os.time("now")`, "os.time: argument must be a table or nothing, got string"},
		{`os.time{year = 2026, month = 3}`, "os.time: field day must be a whole number, got nil"},
		{`os.time{year = 2026, month = 3, day = 1.5}`, "os.time: field day must be a whole number"},
		{`os.time{year = 2026, month = 3, day = 1, hour = "x"}`, "os.time: field hour must be a whole number"},
		{`os.difftime(1)`, "os.difftime: want two numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			path := writeScript(t, onCall(tt.body))
			err := dialplantest.RunAt(t, path, dialplantest.NewFakeSession("1001", "1002"), fixedNow)
			var serr *dialplan.ScriptError
			if !errors.As(err, &serr) || serr.Line != 2 || !strings.Contains(serr.Msg, tt.want) {
				t.Fatalf("Run = %v, want a script error at line 2 containing %q", err, tt.want)
			}
		})
	}
}

// The shipped dialplan's office hours: a carrier call on a weekday
// morning rings the extension; the same call on a Sunday, or at night,
// hears the office-closed prompt.
func TestShippedOfficeHours(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		at   time.Time
		want []string
	}{
		{"wednesday 09:05", fixedNow, []string{"bridge user/1002 timeout=30s"}},
		{"friday 15:59", time.Date(2026, 3, 6, 15, 59, 0, 0, cet), []string{"bridge user/1002 timeout=30s"}},
		{"friday 16:00", time.Date(2026, 3, 6, 16, 0, 0, 0, cet), []string{"set closed=Fri 16:00", "answer", "play office-closed", "hangup normal"}},
		{"sunday 11:00", time.Date(2026, 3, 8, 11, 0, 0, 0, cet), []string{"set closed=Sun 11:00", "answer", "play office-closed", "hangup normal"}},
		{"tuesday 07:59", time.Date(2026, 3, 3, 7, 59, 0, 0, cet), []string{"set closed=Tue 07:59", "answer", "play office-closed", "hangup normal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dialplantest.NewFakeSession("+4930555", "+4930551002")
			s.Call.Trunk = "carrier"
			if err := dialplantest.RunAt(t, shippedScript, s, tt.at); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := s.Calls(); !slices.Equal(got, tt.want) {
				t.Errorf("calls = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzFormatDate(f *testing.F) {
	for _, s := range []string{"%Y-%m-%d", "%c", "%", "%%", "%Q", "plain", "%a%A%b%B%H%I%j%M%p%S%w%x%X%y%Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, format string) {
		out, err := dialplan.FormatDate(format, fixedNow)
		if err != nil {
			return
		}
		if !strings.Contains(format, "%") && out != format {
			t.Errorf("FormatDate(%q) = %q: a format without %% must come back as it is", format, out)
		}
	})
}
