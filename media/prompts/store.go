package prompts

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/sounds"
)

// DefaultMaxBytes bounds the PCM a Store keeps when Config.MaxBytes is 0.
const DefaultMaxBytes = 64 << 20

// ErrBadName is returned for a prompt name that is neither a plain name
// nor a path to a WAV file.
var ErrBadName = errors.New("prompts: bad prompt name")

// Config configures a Store. The zero value serves the embedded prompts
// and WAV paths, keeping at most DefaultMaxBytes of PCM.
type Config struct {
	// Dir is looked in first for NAME.wav when a prompt is asked for by
	// name; an embedded prompt of the same name is the fallback.
	Dir string `yaml:"dir"`
	// MaxBytes bounds the decoded PCM kept, all rates together.
	MaxBytes int64 `yaml:"max_bytes"`
}

// Stats counts the work a Store did since it was made.
type Stats struct {
	Decodes     int   // prompts decoded from WAV
	Conversions int   // per-rate versions made
	Bytes       int64 // PCM kept now
	Prompts     int   // prompts kept now
}

// Store decodes each prompt once and shares it. It is safe for concurrent use.
type Store struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	entries map[string]*entry
	bytes   int64
	clock   uint64 // use counter for least-recently-used eviction
	stats   Stats
	decodes map[string]int // per key, kept across eviction and reload
	convs   map[convKey]int
}

type convKey struct {
	key  string
	rate int
}

// entry is one prompt: its decoded audio and its versions at other rates.
type entry struct {
	key   string
	file  string    // path of a file-backed prompt; "" when embedded
	mtime time.Time // of file when decoded
	size  int64
	src   *flight
	rates map[int]*flight // guarded by Store.mu
	bytes int64           // guarded by Store.mu
	used  uint64          // guarded by Store.mu
}

// flight is audio being made; done is closed when p or err is set.
type flight struct {
	done chan struct{}
	p    *sounds.Prompt
	err  error
}

func newFlight() *flight { return &flight{done: make(chan struct{})} }

// New returns an empty Store.
func New(cfg Config, log *slog.Logger) *Store {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	return &Store{cfg: cfg, log: log, entries: make(map[string]*entry),
		decodes: make(map[string]int), convs: make(map[convKey]int)}
}

// Prompt returns the prompt called name at rate Hz: shared and immutable,
// so the caller must not change its PCM. name is an embedded prompt
// ("test-audio"), a file NAME.wav in Config.Dir (which wins), or a path to
// a WAV file (it has a slash or ends in .wav). Errors wrap
// sounds.ErrNotFound, sounds.ErrMalformed, sounds.ErrUnsupported,
// media.ErrUnsupportedRate, ErrBadName or the file system's error.
func (s *Store) Prompt(name string, rate int) (*sounds.Prompt, error) {
	key, file, err := s.resolve(name)
	if err != nil {
		return nil, fmt.Errorf("prompt %q: %w", name, err)
	}
	var fi os.FileInfo
	if file != "" {
		if fi, err = os.Stat(file); err != nil {
			s.drop(key, nil)
			return nil, fmt.Errorf("prompt %q: %w", name, err)
		}
	}
	e, decode := s.lookup(key, file, fi)
	if decode {
		s.decode(e, fi)
	}
	<-e.src.done
	if e.src.err != nil {
		s.drop(key, e) // not kept: the next call tries again
		return nil, fmt.Errorf("prompt %q: %w", name, e.src.err)
	}
	if e.src.p.Rate == rate {
		return e.src.p, nil
	}
	return s.at(e, rate)
}

// resolve names the prompt's cache key and, for a file, its path.
func (s *Store) resolve(name string) (key, file string, err error) {
	switch {
	case name == "":
		return "", "", ErrBadName
	case strings.ContainsAny(name, `/\`) || strings.HasSuffix(strings.ToLower(name), ".wav"):
		p := filepath.Clean(name)
		return "file:" + p, p, nil
	case name == "." || name == "..":
		return "", "", ErrBadName
	}
	if s.cfg.Dir != "" {
		p := filepath.Join(s.cfg.Dir, name+".wav")
		if _, err := os.Stat(p); err == nil {
			return "file:" + p, p, nil
		}
	}
	return "embedded:" + name, "", nil
}

// lookup returns the entry for key, replacing one whose file changed;
// decode tells the caller to decode a new entry.
func (s *Store) lookup(key, file string, fi os.FileInfo) (e *entry, decode bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock++
	e = s.entries[key]
	if e != nil && fi != nil && (!fi.ModTime().Equal(e.mtime) || fi.Size() != e.size) {
		if s.log != nil {
			s.log.Info("prompt file changed: decoding it again", "file", file)
		}
		s.removeLocked(e)
		e = nil
	}
	if e == nil {
		e = &entry{key: key, file: file, src: newFlight(), rates: make(map[int]*flight)}
		if fi != nil {
			e.mtime, e.size = fi.ModTime(), fi.Size()
		}
		s.entries[key] = e
		decode = true
	}
	e.used = s.clock
	return e, decode
}

// decode decodes e's source audio, once.
func (s *Store) decode(e *entry, fi os.FileInfo) {
	var p *sounds.Prompt
	var err error
	if e.file != "" {
		p, err = sounds.LoadFile(e.file)
	} else {
		p, err = sounds.Load(strings.TrimPrefix(e.key, "embedded:"))
	}
	e.src.p, e.src.err = p, err
	close(e.src.done)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decodes[e.key]++
	s.stats.Decodes++
	if s.log != nil {
		s.log.Info("prompt decoded", "prompt", e.key, "rate", p.Rate, "duration", p.Duration())
	}
	s.chargeLocked(e, pcmBytes(p))
}

// at returns e's version at rate, making it on first use.
func (s *Store) at(e *entry, rate int) (*sounds.Prompt, error) {
	s.mu.Lock()
	f, ok := e.rates[rate]
	if !ok {
		f = newFlight()
		e.rates[rate] = f
	}
	s.mu.Unlock()
	if !ok {
		src := e.src.p
		pcm, err := media.ResampleAll(src.PCM, src.Rate, rate)
		if err == nil {
			f.p = &sounds.Prompt{Name: src.Name, Rate: rate, PCM: pcm}
		}
		f.err = err
		close(f.done)
		s.mu.Lock()
		if err != nil {
			if e.rates[rate] == f {
				delete(e.rates, rate)
			}
		} else {
			s.convs[convKey{e.key, rate}]++
			s.stats.Conversions++
			if s.log != nil {
				s.log.Info("prompt converted", "prompt", e.key, "rate", rate)
			}
			s.chargeLocked(e, pcmBytes(f.p))
		}
		s.mu.Unlock()
	}
	<-f.done
	if f.err != nil {
		return nil, fmt.Errorf("prompt %q at %d Hz: %w", e.src.p.Name, rate, f.err)
	}
	return f.p, nil
}

// chargeLocked adds n bytes to e (if still kept) and evicts the least
// recently used other prompts while over the bound.
func (s *Store) chargeLocked(e *entry, n int64) {
	if s.entries[e.key] != e {
		return // replaced or dropped meanwhile: its audio is not kept
	}
	e.bytes += n
	s.bytes += n
	if e.bytes > s.cfg.MaxBytes {
		// Alone over the bound: served to those asking now, not kept,
		// and the others stay.
		if s.log != nil {
			s.log.Warn("prompt larger than the prompt store's bound: not kept", "prompt", e.key,
				"bytes", e.bytes, "max_bytes", s.cfg.MaxBytes)
		}
		s.removeLocked(e)
		return
	}
	for s.bytes > s.cfg.MaxBytes {
		var victim *entry
		for _, o := range s.entries {
			if o != e && (victim == nil || o.used < victim.used) {
				victim = o
			}
		}
		if victim == nil {
			break
		}
		s.removeLocked(victim)
	}
}

// removeLocked forgets e; calls playing its audio keep it until they end.
func (s *Store) removeLocked(e *entry) {
	if s.entries[e.key] == e {
		delete(s.entries, e.key)
		s.bytes -= e.bytes
		e.bytes = 0
	}
}

// drop forgets key's entry (e, or any when e is nil).
func (s *Store) drop(key string, e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.entries[key]; o != nil && (e == nil || o == e) {
		s.removeLocked(o)
	}
}

// Stats returns the counters.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Bytes, st.Prompts = s.bytes, len(s.entries)
	return st
}

// Decodes returns how often the prompt called name was decoded, and
// Conversions how often its version at rate was made (both 1 when it was
// shared as it should).
func (s *Store) Decodes(name string) int {
	key, _, err := s.resolve(name)
	if err != nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.decodes[key]
}

// Conversions returns how often name's version at rate was made.
func (s *Store) Conversions(name string, rate int) int {
	key, _, err := s.resolve(name)
	if err != nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.convs[convKey{key, rate}]
}

func pcmBytes(p *sounds.Prompt) int64 { return 2 * int64(len(p.PCM)) }
