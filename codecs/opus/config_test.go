package opus

import (
	"errors"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		want    settings
		wantErr bool
	}{
		{"zero is 48 kHz mono", Config{}, settings{rate: 48000, channels: 1, complexity: 5, autoBitrate: true}, false},
		{"8 kHz", Config{Rate: 8000}, settings{rate: 8000, channels: 1, complexity: 5, autoBitrate: true}, false},
		{"all set", Config{Rate: 16000, Channels: 2, Complexity: 10, Bitrate: 32000, FEC: true},
			settings{rate: 16000, channels: 2, complexity: 10, bitrate: 32000, fec: true, loss: 10}, false},
		{"fec at 8 kHz raises the auto bitrate", Config{Rate: 8000, FEC: true},
			settings{rate: 8000, channels: 1, complexity: 5, bitrate: 20000, fec: true, loss: 10, autoBitrate: true}, false},
		{"fec at 16 kHz raises the auto bitrate", Config{Rate: 16000, FEC: true},
			settings{rate: 16000, channels: 1, complexity: 5, bitrate: 20000, fec: true, loss: 10, autoBitrate: true}, false},
		{"fec at 24 kHz keeps the auto bitrate", Config{Rate: 24000, FEC: true},
			settings{rate: 24000, channels: 1, complexity: 5, fec: true, loss: 10, autoBitrate: true}, false},
		{"fec keeps an explicit bitrate", Config{Rate: 8000, Bitrate: 12000, FEC: true},
			settings{rate: 8000, channels: 1, complexity: 5, bitrate: 12000, fec: true, loss: 10}, false},
		{"bitrate bounds", Config{Bitrate: 500}, settings{rate: 48000, channels: 1, complexity: 5, bitrate: 500}, false},
		{"complexity 1", Config{Complexity: 1}, settings{rate: 48000, channels: 1, complexity: 1, autoBitrate: true}, false},
		{"rate 44100", Config{Rate: 44100}, settings{}, true},
		{"rate 32000", Config{Rate: 32000}, settings{}, true},
		{"rate negative", Config{Rate: -8000}, settings{}, true},
		{"channels 3", Config{Channels: 3}, settings{}, true},
		{"channels negative", Config{Channels: -1}, settings{}, true},
		{"complexity 11", Config{Complexity: 11}, settings{}, true},
		{"complexity negative", Config{Complexity: -1}, settings{}, true},
		{"bitrate 499", Config{Bitrate: 499}, settings{}, true},
		{"bitrate 512001", Config{Bitrate: 512001}, settings{}, true},
		{"bitrate negative", Config{Bitrate: -1}, settings{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.resolve()
			if tt.wantErr {
				if !errors.Is(err, ErrConfig) {
					t.Fatalf("resolve(%+v) error = %v, want ErrConfig", tt.cfg, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("resolve(%+v) = %+v, %v; want %+v", tt.cfg, got, err, tt.want)
			}
		})
	}
}

func TestDownmix(t *testing.T) {
	tests := []struct {
		name string
		lr   []int16
		want []int16
	}{
		{"empty", nil, []int16{}},
		{"equal channels", []int16{100, 100, -7, -7}, []int16{100, -7}},
		{"one channel silent", []int16{1000, 0, 0, -1000}, []int16{500, -500}},
		{"full scale does not wrap", []int16{32767, 32767, -32768, -32768}, []int16{32767, -32768}},
		{"opposite phase cancels", []int16{32767, -32767}, []int16{0}},
		{"odd sum rounds down", []int16{3, 0, -3, 0}, []int16{1, -2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]int16, len(tt.lr)/2+1)
			n := downmix(dst, tt.lr)
			if n != len(tt.want) {
				t.Fatalf("downmix n = %d, want %d", n, len(tt.want))
			}
			for i, v := range tt.want {
				if dst[i] != v {
					t.Fatalf("downmix = %v, want %v", dst[:n], tt.want)
				}
			}
		})
	}
}
