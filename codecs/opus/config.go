package opus

import (
	"fmt"
	"strconv"
)

const (
	// ClockRate is the RTP clock rate of Opus whatever the PCM rate
	// (RFC 7587 section 4.1): a 20 ms frame advances the timestamp by 960.
	ClockRate = 48000
	// MaxPayload is the largest payload of one 20 ms frame: a TOC byte
	// and at most 1275 bytes of frame data (RFC 6716 section 3.2.1).
	// An Encode dst of this size never fails for want of room.
	MaxPayload = 1276

	defaultRate     = 48000
	defaultChannels = 1
	framesPerSecond = 50  // 20 ms frames
	maxPacketMillis = 120 // longest packet RFC 6716 allows
	fecLossPercent  = 10  // expected loss told to the encoder when FEC is on
	fecBitrate      = 20000
	autoBitrateBase = 3000 // libopus auto bitrate is this + Rate for 20 ms mono frames
	defaultComplex  = 5
	minBitrate      = 500
	maxBitrate      = 512000
)

// Config configures an Encoder or a Decoder; the zero value of every
// field means its default, so Config{} is 48 kHz mono at default
// complexity and automatic bitrate.
type Config struct {
	// Rate is the PCM sample rate the codec takes and gives: 8000, 12000,
	// 16000, 24000 or 48000 (default). The RTP clock stays 48000.
	Rate int `yaml:"rate"`
	// Channels is 1 (default) or 2, as negotiated in SDP. The encoder
	// always encodes mono; a 2-channel decoder decodes stereo and
	// downmixes, so PCM is mono either way.
	Channels int `yaml:"channels"`
	// Complexity is the encoder complexity, 1..10; the default (0) is 5
	// at every rate. On speech, encoding at 5 costs 0.5 to 0.7 times
	// what 10 does (BENCHMARKS.md), which keeps a transcoded Opus ↔ PCMU
	// call at 8 kHz near 0.1 ms of CPU per 20 ms frame. libopus
	// complexity 0 cannot be asked for. Decoders ignore it and keep
	// libopus's default.
	Complexity int `yaml:"complexity"`
	// Bitrate is the target bitrate in bit/s, 500..512000; 0 (default)
	// lets libopus choose (3000 + Rate: 11000 at 8 kHz, 51000 at 48 kHz),
	// except with FEC below 24 kHz, see FEC. Decoders ignore it.
	Bitrate int `yaml:"bitrate"`
	// FEC turns on in-band forward error correction, tuned for 10 %
	// loss. libopus only adds FEC data when the bitrate leaves room for
	// it (above about 17 kbit/s in narrowband), more than its automatic
	// bitrate at 8 to 16 kHz, so FEC with Bitrate 0 at those rates asks
	// for 20 kbit/s. An explicit Bitrate is kept as given, and below that
	// threshold the packets carry no FEC. Decoders ignore it: any decoder
	// can use FEC data.
	FEC bool `yaml:"fec"`
}

// settings is a validated Config with its defaults filled in.
type settings struct {
	rate        int
	channels    int
	complexity  int
	bitrate     int // 0 = libopus auto
	fec         bool
	loss        int  // expected loss told to the encoder with fec, percent
	autoBitrate bool // the Config left the bitrate to us
}

// resolve validates cfg and fills in its defaults.
func (cfg Config) resolve() (settings, error) {
	s := settings{
		rate:       cfg.Rate,
		channels:   cfg.Channels,
		complexity: cfg.Complexity,
		bitrate:    cfg.Bitrate,
		fec:        cfg.FEC,

		autoBitrate: cfg.Bitrate == 0,
	}
	if s.rate == 0 {
		s.rate = defaultRate
	}
	switch s.rate {
	case 8000, 12000, 16000, 24000, 48000:
	default:
		return settings{}, fmt.Errorf("rate %d: %w", cfg.Rate, ErrConfig)
	}
	if s.channels == 0 {
		s.channels = defaultChannels
	}
	if s.channels != 1 && s.channels != 2 {
		return settings{}, fmt.Errorf("channels %d: %w", cfg.Channels, ErrConfig)
	}
	if s.complexity == 0 {
		s.complexity = defaultComplex
	}
	if s.complexity < 1 || s.complexity > 10 {
		return settings{}, fmt.Errorf("complexity %d: %w", cfg.Complexity, ErrConfig)
	}
	if s.bitrate != 0 && (s.bitrate < minBitrate || s.bitrate > maxBitrate) {
		return settings{}, fmt.Errorf("bitrate %d: %w", cfg.Bitrate, ErrConfig)
	}
	if s.fec && s.bitrate == 0 && autoBitrateBase+s.rate < fecBitrate {
		s.bitrate = fecBitrate
	}
	if s.fec {
		s.loss = fecLossPercent
	}
	return s, nil
}

// frameSamples is the number of samples in one 20 ms frame.
func (s settings) frameSamples() int { return s.rate / framesPerSecond }

// name names a stage, e.g. "Opus(encode,8k)".
func (s settings) name(op string) string {
	return "Opus(" + op + "," + strconv.Itoa(s.rate/1000) + "k)"
}
