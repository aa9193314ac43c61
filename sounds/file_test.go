package sounds

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "x.wav")
	p := &Prompt{Rate: 8000, PCM: []int16{1, -2, 3, 32767, -32768}}
	if err := WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	got, err := LoadFile(path)
	if err != nil || got.Rate != 8000 || !slices.Equal(got.PCM, p.PCM) {
		t.Fatalf("read back %+v, %v", got, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the file (no temporary left)", len(entries))
	}
	if err := WriteFile(filepath.Join(path, "under-a-file.wav"), p); err == nil {
		t.Fatal("writing under a file succeeded")
	}
}
