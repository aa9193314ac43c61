package mixer

import (
	"errors"
	"fmt"
)

// Defaults of Config.
const (
	DefaultRate      = 16000
	DefaultTalkers   = 3
	DefaultThreshold = 150 // RMS in int16 units, about -47 dBFS
	maxTalkers       = 32
)

// ErrConfig is wrapped by the errors of an invalid Config.
var ErrConfig = errors.New("mixer: invalid config")

// Config sets how a room mixes; its zero value means the defaults.
type Config struct {
	// Rate is the mixing rate in Hz: 8000, 16000, 24000 or 48000.
	Rate int `yaml:"rate"`
	// Talkers is how many of the loudest members are mixed at once.
	Talkers int `yaml:"talkers"`
	// Threshold is the RMS level (int16 units) below which a member
	// counts as silent and is not mixed.
	Threshold int `yaml:"threshold"`
}

// withDefaults returns c with zero fields set to their defaults, or an
// error for values out of range.
func (c Config) withDefaults() (Config, error) {
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.Talkers == 0 {
		c.Talkers = DefaultTalkers
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	switch c.Rate {
	case 8000, 16000, 24000, 48000:
	default:
		return c, fmt.Errorf("rate %d (want 8000, 16000, 24000 or 48000): %w", c.Rate, ErrConfig)
	}
	if c.Talkers < 1 || c.Talkers > maxTalkers {
		return c, fmt.Errorf("talkers %d (want 1 to %d): %w", c.Talkers, maxTalkers, ErrConfig)
	}
	if c.Threshold < 0 || c.Threshold > 32767 {
		return c, fmt.Errorf("threshold %d (want 0 to 32767): %w", c.Threshold, ErrConfig)
	}
	return c, nil
}

// Validate reports whether c (after defaults) is usable.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}
