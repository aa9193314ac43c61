package sounds

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile writes p to path as a mono 16-bit WAV (EncodeWAV), creating
// the directory; it goes through a temporary file in the same directory,
// so the file appears whole or not at all (recordings, voicemail).
func WriteFile(path string, p *Prompt) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, ".wav-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(EncodeWAV(p))
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
