package sounds

import (
	"encoding/binary"
	"fmt"
)

// WAVE format tags and limits.
const (
	formatPCM        = 0x0001
	formatExtensible = 0xFFFE

	maxChannels = 8
	minRate     = 1000
	maxRate     = 384000

	riffHeaderLen  = 12 // "RIFF" size "WAVE"
	chunkHeaderLen = 8  // id size
	fmtMinLen      = 16
	fmtExtLen      = 40 // WAVEFORMATEXTENSIBLE with cbSize 22
)

// pcmSubformat is KSDATAFORMAT_SUBTYPE_PCM: the GUID of an extensible
// WAVE file holding integer PCM, as stored (little-endian fields).
var pcmSubformat = [16]byte{
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
	0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
}

// wavFormat is the part of the "fmt " chunk the decoder needs.
type wavFormat struct {
	channels int
	rate     int
	bits     int
}

// DecodeWAV decodes a RIFF/WAVE file holding integer PCM: 16-bit signed
// or 8-bit unsigned samples, 1 to 8 channels (averaged down to mono), at
// any rate from 1000 to 384000 Hz. The returned Prompt has no Name.
//
// Chunks other than "fmt " and "data" are skipped. A data chunk that
// claims more bytes than the file holds (as written by a recorder that
// could not seek back) is read up to the last whole sample frame.
// Errors wrap ErrMalformed or ErrUnsupported.
func DecodeWAV(data []byte) (*Prompt, error) {
	f, body, err := parseWAV(data)
	if err != nil {
		return nil, fmt.Errorf("decode wav: %w", err)
	}
	return &Prompt{Rate: f.rate, PCM: f.decode(body, -1)}, nil
}

// DecodeWAVChannel decodes one channel (0 is the first, the left of a
// stereo file) of a file DecodeWAV accepts: a call recording's caller
// or callee. It fails with ErrMalformed when the file has no such channel.
func DecodeWAVChannel(data []byte, channel int) (*Prompt, error) {
	f, body, err := parseWAV(data)
	if err != nil {
		return nil, fmt.Errorf("decode wav channel %d: %w", channel, err)
	}
	if channel < 0 || channel >= f.channels {
		return nil, fmt.Errorf("decode wav channel %d of %d: %w", channel, f.channels, ErrMalformed)
	}
	return &Prompt{Rate: f.rate, PCM: f.decode(body, channel)}, nil
}

// parseWAV finds the format and the sample bytes of a RIFF/WAVE file.
func parseWAV(data []byte) (wavFormat, []byte, error) {
	if len(data) < riffHeaderLen || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return wavFormat{}, nil, fmt.Errorf("no RIFF/WAVE header: %w", ErrMalformed)
	}
	var (
		f       wavFormat
		haveFmt bool
	)
	rest := data[riffHeaderLen:]
	for len(rest) >= chunkHeaderLen {
		id := string(rest[0:4])
		size := uint64(binary.LittleEndian.Uint32(rest[4:8]))
		body := rest[chunkHeaderLen:]
		switch id {
		case "fmt ":
			if size > uint64(len(body)) {
				return wavFormat{}, nil, fmt.Errorf("fmt chunk of %d bytes truncated: %w", size, ErrMalformed)
			}
			var err error
			if f, err = parseFormat(body[:size]); err != nil {
				return wavFormat{}, nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return wavFormat{}, nil, fmt.Errorf("data chunk before fmt chunk: %w", ErrMalformed)
			}
			return f, body[:min(size, uint64(len(body)))], nil
		}
		next := size + size&1 // chunks are padded to an even length
		if next > uint64(len(body)) {
			break // a truncated last chunk, or a missing last pad byte
		}
		rest = body[next:]
	}
	if !haveFmt {
		return wavFormat{}, nil, fmt.Errorf("no fmt chunk: %w", ErrMalformed)
	}
	return wavFormat{}, nil, fmt.Errorf("no data chunk: %w", ErrMalformed)
}

// parseFormat reads a "fmt " chunk body.
func parseFormat(b []byte) (wavFormat, error) {
	if len(b) < fmtMinLen {
		return wavFormat{}, fmt.Errorf("fmt chunk of %d bytes: %w", len(b), ErrMalformed)
	}
	tag := binary.LittleEndian.Uint16(b[0:2])
	f := wavFormat{
		channels: int(binary.LittleEndian.Uint16(b[2:4])),
		rate:     int(binary.LittleEndian.Uint32(b[4:8])),
		bits:     int(binary.LittleEndian.Uint16(b[14:16])),
	}
	blockAlign := int(binary.LittleEndian.Uint16(b[12:14]))
	switch tag {
	case formatPCM:
	case formatExtensible:
		if len(b) < fmtExtLen {
			return wavFormat{}, fmt.Errorf("extensible fmt chunk of %d bytes: %w", len(b), ErrMalformed)
		}
		if [16]byte(b[24:40]) != pcmSubformat {
			return wavFormat{}, fmt.Errorf("extensible subformat %x is not integer PCM: %w", b[24:40], ErrUnsupported)
		}
	default:
		return wavFormat{}, fmt.Errorf("format tag %#04x is not integer PCM: %w", tag, ErrUnsupported)
	}
	switch {
	case f.channels == 0:
		return wavFormat{}, fmt.Errorf("zero channels: %w", ErrMalformed)
	case f.channels > maxChannels:
		return wavFormat{}, fmt.Errorf("%d channels (at most %d): %w", f.channels, maxChannels, ErrUnsupported)
	case f.bits != 8 && f.bits != 16:
		return wavFormat{}, fmt.Errorf("%d bits per sample (want 8 or 16): %w", f.bits, ErrUnsupported)
	case f.rate < minRate || f.rate > maxRate:
		return wavFormat{}, fmt.Errorf("sample rate %d Hz (want %d to %d): %w", f.rate, minRate, maxRate, ErrUnsupported)
	case blockAlign != f.channels*f.bits/8:
		return wavFormat{}, fmt.Errorf("block align %d for %d channels of %d bits: %w", blockAlign, f.channels, f.bits, ErrMalformed)
	}
	return f, nil
}

// decode turns sample frames into mono int16, ignoring a trailing
// partial frame: channel ch, or all channels averaged when ch < 0.
func (f wavFormat) decode(b []byte, ch int) []int16 {
	width := f.bits / 8
	frame := width * f.channels
	pcm := make([]int16, len(b)/frame)
	for i := range pcm {
		fb := b[i*frame : (i+1)*frame]
		if ch >= 0 {
			pcm[i] = int16(sample(fb[ch*width:], width))
			continue
		}
		var sum int
		for c := range f.channels {
			sum += sample(fb[c*width:], width)
		}
		pcm[i] = int16(sum / f.channels)
	}
	return pcm
}

// sample reads one sample as a signed 16-bit value.
func sample(b []byte, width int) int {
	if width == 1 {
		return (int(b[0]) - 128) << 8
	}
	return int(int16(binary.LittleEndian.Uint16(b)))
}
