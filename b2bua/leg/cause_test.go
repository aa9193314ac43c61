package leg

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestCauseFromName(t *testing.T) {
	tests := []struct {
		in   string
		sip  int
		q850 int
		ok   bool
	}{
		{"busy", 486, 17, true}, {"NO-ANSWER", 480, 19, true}, {"unavailable", 480, 20, true},
		{"not-found", 404, 1, true}, {"declined", 603, 21, true}, {"", 0, 16, true}, {"normal", 0, 16, true},
		{"486", 486, 17, true}, {"503", 503, 34, true}, {"299", 0, 0, false}, {"bogus", 0, 0, false},
	}
	for _, tt := range tests {
		c, ok := CauseFromName(tt.in)
		if ok != tt.ok || ok && (c.SIP != tt.sip || c.Q850 != tt.q850) {
			t.Errorf("CauseFromName(%q) = %+v, %v", tt.in, c, ok)
		}
	}
}

func TestCauseFromSIP(t *testing.T) {
	tests := []struct {
		code int
		name string
	}{
		{486, "busy"}, {600, "busy"}, {404, "not-found"}, {480, "unavailable"}, {408, "no-answer"},
		{487, "cancelled"}, {603, "declined"}, {488, "incompatible"}, {503, "congestion"}, {500, "failure"}, {420, "failure"},
	}
	for _, tt := range tests {
		if c := CauseFromSIP(tt.code, ""); c.Name != tt.name || c.SIP != tt.code {
			t.Errorf("CauseFromSIP(%d) = %+v, want %s", tt.code, c, tt.name)
		}
	}
}

func TestCauseOf(t *testing.T) {
	if c := CauseOf(fmt.Errorf("dial: %w", &Error{Cause: Busy})); c != Busy {
		t.Errorf("wrapped leg error: %+v", c)
	}
	if c := CauseOf(context.DeadlineExceeded); c != NoAnswer {
		t.Errorf("deadline: %+v", c)
	}
	if c := CauseOf(context.Canceled); c != Cancelled {
		t.Errorf("cancel: %+v", c)
	}
	if c := CauseOf(errors.New("x")); c != Failure {
		t.Errorf("other: %+v", c)
	}
}
