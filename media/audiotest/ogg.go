package audiotest

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	libopus "github.com/hraban/opus"
)

// OggRate is the rate DecodeOggOpus returns: Opus decodes at 48 kHz.
const OggRate = 48000

// DecodeOggOpus decodes an Ogg Opus file (RFC 7845) of the given number
// of channels with libopusfile, an independent reader that checks every
// page's CRC and applies pre-skip and end trimming, and returns each
// channel at OggRate. A file cut short (no end-of-stream page) decodes
// up to its last whole page.
func DecodeOggOpus(data []byte, channels int) ([][]int16, error) {
	s, err := libopus.NewStream(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("libopusfile: %w", err)
	}
	defer s.Close()
	out := make([][]int16, channels)
	buf := make([]int16, channels*5760) // 120 ms, the longest packet
	for range len(data) + 1 {           // bounded: every read consumes data
		n, err := s.Read(buf)
		for i := range n {
			for c := range channels {
				out[c] = append(out[c], buf[i*channels+c])
			}
		}
		switch {
		case errors.Is(err, io.EOF), err == nil && n == 0:
			return out, nil
		case err != nil:
			return out, fmt.Errorf("libopusfile: %w", err)
		}
	}
	return out, errors.New("libopusfile: the stream does not end")
}
