package sounds_test

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/softswitch/softswitch/sounds"
)

// wavSpec describes a synthetic WAVE file for the table tests.
type wavSpec struct {
	tag      uint16
	channels uint16
	rate     uint32
	bits     uint16
	align    uint16 // 0: computed
	sub      []byte // extensible subformat GUID, for tag 0xFFFE
	before   []chunk
	data     []byte
	dataSize int // -1: len(data)
	noFmt    bool
}

type chunk struct {
	id   string
	body []byte
}

var pcmGUID = []byte{0x01, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71}

func (s wavSpec) bytes() []byte {
	le := binary.LittleEndian
	var body []byte
	body = append(body, "WAVE"...)
	addChunk := func(id string, b []byte, size int) {
		body = append(body, id...)
		body = le.AppendUint32(body, uint32(size))
		body = append(body, b...)
		if len(b)%2 == 1 {
			body = append(body, 0)
		}
	}
	for _, c := range s.before {
		addChunk(c.id, c.body, len(c.body))
	}
	if !s.noFmt {
		align := s.align
		if align == 0 {
			align = s.channels * s.bits / 8
		}
		var f []byte
		f = le.AppendUint16(f, s.tag)
		f = le.AppendUint16(f, s.channels)
		f = le.AppendUint32(f, s.rate)
		f = le.AppendUint32(f, s.rate*uint32(align))
		f = le.AppendUint16(f, align)
		f = le.AppendUint16(f, s.bits)
		if s.tag == 0xFFFE {
			f = le.AppendUint16(f, 22)
			f = le.AppendUint16(f, s.bits)
			f = le.AppendUint32(f, 4) // channel mask
			f = append(f, s.sub...)
		}
		addChunk("fmt ", f, len(f))
	}
	size := s.dataSize
	if size < 0 {
		size = len(s.data)
	}
	addChunk("data", s.data, size)
	out := append([]byte("RIFF"), le.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

func le16(v ...int16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, uint16(x))
	}
	return b
}

func TestDecodeWAV(t *testing.T) {
	mono := wavSpec{tag: 1, channels: 1, rate: 8000, bits: 16, data: le16(0, 1, -1, 32767, -32768), dataSize: -1}
	tests := []struct {
		name     string
		data     []byte
		wantRate int
		wantPCM  []int16
		wantErr  error
	}{
		{"mono 16-bit", mono.bytes(), 8000, []int16{0, 1, -1, 32767, -32768}, nil},
		{"stereo 16-bit is averaged", wavSpec{tag: 1, channels: 2, rate: 48000, bits: 16, dataSize: -1,
			data: le16(100, 300, -32768, -32768, 32767, -32768, 5, 0)}.bytes(), 48000, []int16{200, -32768, 0, 2}, nil},
		{"unsigned 8-bit", wavSpec{tag: 1, channels: 1, rate: 11025, bits: 8, dataSize: -1,
			data: []byte{128, 0, 255, 129}}.bytes(), 11025, []int16{0, -32768, 32512, 256}, nil},
		{"8-bit stereo", wavSpec{tag: 1, channels: 2, rate: 8000, bits: 8, dataSize: -1,
			data: []byte{0, 255, 128, 130}}.bytes(), 8000, []int16{-128, 256}, nil},
		{"extensible PCM", wavSpec{tag: 0xFFFE, channels: 1, rate: 16000, bits: 16, sub: pcmGUID, dataSize: -1,
			data: le16(7, 8)}.bytes(), 16000, []int16{7, 8}, nil},
		{"odd-sized chunk before fmt is skipped with its pad", wavSpec{tag: 1, channels: 1, rate: 8000, bits: 16, dataSize: -1,
			before: []chunk{{"LIST", []byte("abc")}}, data: le16(42)}.bytes(), 8000, []int16{42}, nil},
		{"data size beyond the file is read to the end", wavSpec{tag: 1, channels: 1, rate: 8000, bits: 16,
			dataSize: 1 << 30, data: le16(1, 2, 3)}.bytes(), 8000, []int16{1, 2, 3}, nil},
		{"trailing half sample ignored", wavSpec{tag: 1, channels: 1, rate: 8000, bits: 16, dataSize: -1,
			data: append(le16(9), 0x01)}.bytes(), 8000, []int16{9}, nil},
		{"empty data", wavSpec{tag: 1, channels: 1, rate: 8000, bits: 16, dataSize: -1}.bytes(), 8000, []int16{}, nil},

		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVE"), 0, nil, sounds.ErrMalformed},
		{"too short", []byte("RIFF"), 0, nil, sounds.ErrMalformed},
		{"not WAVE", []byte("RIFF\x04\x00\x00\x00AVI "), 0, nil, sounds.ErrMalformed},
		{"no fmt", wavSpec{noFmt: true, data: le16(1), dataSize: -1}.bytes(), 0, nil, sounds.ErrMalformed},
		{"no data", mono.bytes()[:36], 0, nil, sounds.ErrMalformed},
		{"fmt truncated", mono.bytes()[:30], 0, nil, sounds.ErrMalformed},
		{"fmt too small", []byte("RIFF\x10\x00\x00\x00WAVEfmt \x02\x00\x00\x00\x01\x00"), 0, nil, sounds.ErrMalformed},
		{"zero channels", wavSpec{tag: 1, channels: 0, rate: 8000, bits: 16, align: 2, dataSize: -1}.bytes(), 0, nil, sounds.ErrMalformed},
		{"block align mismatch", wavSpec{tag: 1, channels: 2, rate: 8000, bits: 16, align: 2, dataSize: -1}.bytes(), 0, nil, sounds.ErrMalformed},
		{"IEEE float", wavSpec{tag: 3, channels: 1, rate: 8000, bits: 32, dataSize: -1}.bytes(), 0, nil, sounds.ErrUnsupported},
		{"A-law", wavSpec{tag: 6, channels: 1, rate: 8000, bits: 8, dataSize: -1}.bytes(), 0, nil, sounds.ErrUnsupported},
		{"24-bit", wavSpec{tag: 1, channels: 1, rate: 48000, bits: 24, dataSize: -1}.bytes(), 0, nil, sounds.ErrUnsupported},
		{"9 channels", wavSpec{tag: 1, channels: 9, rate: 8000, bits: 16, dataSize: -1}.bytes(), 0, nil, sounds.ErrUnsupported},
		{"rate 0", wavSpec{tag: 1, channels: 1, rate: 0, bits: 16, dataSize: -1}.bytes(), 0, nil, sounds.ErrUnsupported},
		{"rate 1 MHz", wavSpec{tag: 1, channels: 1, rate: 1000000, bits: 16, dataSize: -1}.bytes(), 0, nil, sounds.ErrUnsupported},
		{"extensible float", wavSpec{tag: 0xFFFE, channels: 1, rate: 8000, bits: 16, dataSize: -1,
			sub: append([]byte{3}, pcmGUID[1:]...)}.bytes(), 0, nil, sounds.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := sounds.DecodeWAV(tt.data)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Rate != tt.wantRate || !slices.Equal(p.PCM, tt.wantPCM) {
				t.Errorf("got rate %d pcm %v, want %d %v", p.Rate, p.PCM, tt.wantRate, tt.wantPCM)
			}
		})
	}
}

func TestEncodeWAVRoundTrip(t *testing.T) {
	in := &sounds.Prompt{Rate: 8000, PCM: []int16{0, 1, -1, 32767, -32768, 1234}}
	b := sounds.EncodeWAV(in)
	if len(b) != 44+2*len(in.PCM) {
		t.Fatalf("len = %d", len(b))
	}
	out, err := sounds.DecodeWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	if out.Rate != in.Rate || !slices.Equal(out.PCM, in.PCM) {
		t.Errorf("round trip: %+v", out)
	}
}

// A stereo file written as a recorder does (header with the length, then
// interleaved samples) decodes channel by channel, and averaged to mono.
func TestDecodeWAVChannel(t *testing.T) {
	left, right := []int16{100, -200, 300}, []int16{-7, 8, 32767}
	b := sounds.AppendWAVHeader(nil, 8000, 2, 4*len(left))
	if len(b) != sounds.WAVHeaderLen {
		t.Fatalf("header is %d bytes, want %d", len(b), sounds.WAVHeaderLen)
	}
	for i := range left {
		b = binary.LittleEndian.AppendUint16(b, uint16(left[i]))
		b = binary.LittleEndian.AppendUint16(b, uint16(right[i]))
	}
	for ch, want := range [][]int16{left, right} {
		p, err := sounds.DecodeWAVChannel(b, ch)
		if err != nil || p.Rate != 8000 || !slices.Equal(p.PCM, want) {
			t.Errorf("channel %d: %v %v, want %v", ch, p, err, want)
		}
	}
	mono, err := sounds.DecodeWAV(b)
	if err != nil || !slices.Equal(mono.PCM, []int16{46, -96, 16533}) {
		t.Errorf("mono: %v %v", mono, err)
	}
	for _, ch := range []int{-1, 2} {
		if _, err := sounds.DecodeWAVChannel(b, ch); !errors.Is(err, sounds.ErrMalformed) {
			t.Errorf("channel %d: %v, want ErrMalformed", ch, err)
		}
	}
}
