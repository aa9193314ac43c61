package sounds

import (
	"embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// embedded holds the shipped prompts; a prompt's name is its file name
// without the .wav extension.
//
//go:embed *.wav
var embedded embed.FS

const (
	wavExt = ".wav"
	// maxFileSize bounds LoadFile: 64 MiB is over 5 minutes of 48 kHz stereo.
	maxFileSize = 64 << 20
)

// Prompt is decoded audio: mono int16 PCM at Rate.
type Prompt struct {
	Name string
	Rate int
	PCM  []int16
}

// Duration returns the length of the audio.
func (p *Prompt) Duration() time.Duration {
	if p.Rate <= 0 {
		return 0
	}
	return time.Duration(len(p.PCM)) * time.Second / time.Duration(p.Rate)
}

// Load decodes the embedded prompt called name, e.g. "test-audio". Each
// call decodes afresh and returns a Prompt the caller owns: calls get
// their prompts from the prompt store (media/prompts), which decodes each
// once and shares it.
func Load(name string) (*Prompt, error) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("load prompt %q: %w", name, ErrNotFound)
	}
	data, err := embedded.ReadFile(name + wavExt)
	if err != nil {
		return nil, fmt.Errorf("load prompt %q: %w", name, ErrNotFound)
	}
	p, err := DecodeWAV(data)
	if err != nil {
		return nil, fmt.Errorf("load prompt %q: %w", name, err)
	}
	p.Name = name
	return p, nil
}

// Names lists the embedded prompts, sorted.
func Names() []string {
	entries, err := embedded.ReadDir(".")
	if err != nil {
		return nil // cannot happen for the root of an embed.FS
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), wavExt); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// LoadFile decodes the WAV file at path (at most 64 MiB). The prompt is
// named after the file, without directory and extension.
func LoadFile(path string) (*Prompt, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load file %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("load file %s: larger than %d bytes: %w", path, maxFileSize, ErrUnsupported)
	}
	p, err := DecodeWAV(data)
	if err != nil {
		return nil, fmt.Errorf("load file %s: %w", path, err)
	}
	p.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return p, nil
}
