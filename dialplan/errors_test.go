package dialplan

import (
	"errors"
	"testing"
)

func TestSentinels(t *testing.T) {
	for _, err := range []error{ErrBudget, ErrMaxDuration, ErrCompile} {
		if !errors.Is(err, ErrScript) {
			t.Errorf("%v is not an ErrScript", err)
		}
	}
	err := &ScriptError{Kind: ErrBudget, File: "a.lua", Line: 3, Msg: "x"}
	if !errors.Is(err, ErrBudget) || !errors.Is(err, ErrScript) || errors.Is(err, ErrCompile) {
		t.Errorf("%v: wrong kinds", err)
	}
	if got, want := err.Error(), "dialplan: cpu budget exceeded: a.lua:3: x"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestSplitPosition(t *testing.T) {
	tests := []struct {
		msg, file string
		line      int
		text      string
	}{
		{"scripts/d.lua:12: boom", "scripts/d.lua", 12, "boom"},
		{"scripts/d.lua:12: a: b", "scripts/d.lua", 12, "a: b"},
		{"scripts/d.lua:x: boom", "scripts/d.lua", 0, "scripts/d.lua:x: boom"},
		{"other.lua:12: boom", "scripts/d.lua", 0, "other.lua:12: boom"},
		{"boom", "scripts/d.lua", 0, "boom"},
		{"scripts/d.lua:0: boom", "scripts/d.lua", 0, "scripts/d.lua:0: boom"},
		{"scripts/d.lua:7", "scripts/d.lua", 0, "scripts/d.lua:7"},
	}
	for _, tt := range tests {
		line, text := splitPosition(tt.msg, tt.file)
		if line != tt.line || text != tt.text {
			t.Errorf("splitPosition(%q) = %d, %q, want %d, %q", tt.msg, line, text, tt.line, tt.text)
		}
	}
}

func TestUnterminatedLine(t *testing.T) {
	tests := []struct {
		src  string
		line int
		want int
	}{
		{"a = 1\nb = 'xy\nc = 2\n", 3, 2},
		{"a = 1\nb = 'xy", 2, 2},
	}
	for _, tt := range tests {
		if got := unterminatedLine([]byte(tt.src), tt.line, "unterminated string", "xy"); got != tt.want {
			t.Errorf("unterminatedLine(%q, %d) = %d, want %d", tt.src, tt.line, got, tt.want)
		}
	}
}
