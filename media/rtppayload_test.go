package media

import "testing"

func TestRTPPayload(t *testing.T) {
	tests := []struct {
		name   string
		pkt    []byte
		hdr    int
		padded bool
		want   string
		ok     bool
	}{
		{"plain", []byte("HHHHabc"), 4, false, "abc", true},
		{"padded", []byte("HHHHabc\x00\x02"), 4, true, "abc", true},
		{"zero padding", []byte("HHHHabc\x00"), 4, true, "", false},
		{"padding into header", []byte("HHHH\x09"), 4, true, "", false},
		{"empty padded", nil, 0, true, "", false},
		{"short", []byte("HH"), 4, false, "", false},
	}
	for _, tt := range tests {
		got, ok := RTPPayload(tt.pkt, tt.hdr, tt.padded)
		if ok != tt.ok || ok && string(got) != tt.want {
			t.Errorf("%s: RTPPayload = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
