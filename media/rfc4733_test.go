package media

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseDTMF(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    DTMFEvent
		wantErr bool
	}{
		{"digit 5 start", []byte{5, 10, 0x01, 0x40}, DTMFEvent{Event: 5, Volume: 10, Duration: 320}, false},
		{"hash end", []byte{11, 0x80 | 10, 0x03, 0x20}, DTMFEvent{Event: 11, End: true, Volume: 10, Duration: 800}, false},
		{"reserved bit ignored", []byte{1, 0x40 | 7, 0, 160}, DTMFEvent{Event: 1, Volume: 7, Duration: 160}, false},
		{"max values", []byte{255, 0xff, 0xff, 0xff}, DTMFEvent{Event: 255, End: true, Volume: 63, Duration: 65535}, false},
		{"redundant tail ignored", []byte{2, 0x80, 0, 1, 9, 9, 9, 9}, DTMFEvent{Event: 2, End: true, Duration: 1}, false},
		{"empty", nil, DTMFEvent{}, true},
		{"short", []byte{1, 2, 3}, DTMFEvent{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDTMF(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrDTMFPayload) {
					t.Fatalf("err = %v, want ErrDTMFPayload", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDTMFMarshal(t *testing.T) {
	tests := []struct {
		ev   DTMFEvent
		want []byte
	}{
		{DTMFEvent{Event: 5, Volume: 10, Duration: 320}, []byte{5, 10, 0x01, 0x40}},
		{DTMFEvent{Event: 11, End: true, Volume: 10, Duration: 800}, []byte{11, 0x8a, 0x03, 0x20}},
		{DTMFEvent{Event: 15, Volume: 0xff, Duration: 65535}, []byte{15, 0x3f, 0xff, 0xff}},
	}
	for _, tt := range tests {
		var buf [8]byte
		n := tt.ev.Marshal(buf[:])
		if n != DTMFEventSize || !bytes.Equal(buf[:n], tt.want) {
			t.Errorf("%+v: got %x (%d), want %x", tt.ev, buf[:n], n, tt.want)
		}
	}
	if n := (DTMFEvent{}).Marshal(make([]byte, 3)); n != 0 {
		t.Errorf("short dst: n = %d, want 0", n)
	}
}

func TestDigitEventMapping(t *testing.T) {
	tests := []struct {
		digit rune
		event uint8
	}{
		{'0', 0}, {'1', 1}, {'5', 5}, {'9', 9}, {'*', 10}, {'#', 11},
		{'A', 12}, {'B', 13}, {'C', 14}, {'D', 15},
	}
	for _, tt := range tests {
		ev, ok := DigitToEvent(tt.digit)
		if !ok || ev != tt.event {
			t.Errorf("DigitToEvent(%q) = %d, %v; want %d", tt.digit, ev, ok, tt.event)
		}
		d, ok := EventToDigit(tt.event)
		if !ok || d != tt.digit {
			t.Errorf("EventToDigit(%d) = %q, %v; want %q", tt.event, d, ok, tt.digit)
		}
	}
	if ev, ok := DigitToEvent('c'); !ok || ev != 14 {
		t.Errorf("lower-case c = %d, %v", ev, ok)
	}
	for _, r := range []rune{'E', 'e', ' ', 'x', '/', ':', '+'} {
		if _, ok := DigitToEvent(r); ok {
			t.Errorf("DigitToEvent(%q) accepted", r)
		}
	}
	for _, ev := range []uint8{16, 32, 255} {
		if _, ok := EventToDigit(ev); ok {
			t.Errorf("EventToDigit(%d) accepted", ev)
		}
	}
}
