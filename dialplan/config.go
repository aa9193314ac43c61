package dialplan

import (
	"fmt"
	"time"
)

// Defaults used for the zero values of Config's fields.
const (
	DefaultPath        = "scripts/dialplan.lua"
	DefaultCPUBudget   = 2 * time.Second
	DefaultMaxDuration = 4 * time.Hour
	DefaultMaxMemory   = 64 << 20
)

// Config configures an Engine. The zero value of each field means its
// default.
type Config struct {
	// Path is the script file, e.g. scripts/dialplan.lua. It is also the
	// name used in error positions ("scripts/dialplan.lua:12: ...").
	Path string `yaml:"path"`
	// CPUBudget bounds the time the script may spend running Lua between
	// two calls of the call API (a loop that never calls the API). Time
	// spent blocked inside the API (ringing, playing) does not count.
	CPUBudget time.Duration `yaml:"cpu_budget"`
	// MaxDuration bounds the total run time of one call's script,
	// blocking API calls included.
	MaxDuration time.Duration `yaml:"max_duration"`
	// MaxMemory bounds the memory, in bytes, that one call's Lua state
	// may hold (tables, strings, functions), as the dialplan estimates it.
	MaxMemory int64 `yaml:"max_memory"`
	// Clock is what os.time and os.date read; nil means time.Now. Tests
	// set it to run a script at a fixed time (dialplantest.RunAt).
	Clock func() time.Time `yaml:"-"`
}

// withDefaults returns cfg with defaults filled in, or an error for
// negative durations.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.CPUBudget < 0 {
		return cfg, fmt.Errorf("dialplan: config: negative cpu_budget %v", cfg.CPUBudget)
	}
	if cfg.MaxDuration < 0 {
		return cfg, fmt.Errorf("dialplan: config: negative max_duration %v", cfg.MaxDuration)
	}
	if cfg.MaxMemory < 0 {
		return cfg, fmt.Errorf("dialplan: config: negative max_memory %d", cfg.MaxMemory)
	}
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if cfg.CPUBudget == 0 {
		cfg.CPUBudget = DefaultCPUBudget
	}
	if cfg.MaxDuration == 0 {
		cfg.MaxDuration = DefaultMaxDuration
	}
	if cfg.MaxMemory == 0 {
		cfg.MaxMemory = DefaultMaxMemory
	}
	return cfg, nil
}
