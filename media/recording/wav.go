package recording

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/softswitch/softswitch/sounds"
)

// wavFile writes interleaved stereo 16-bit PCM at Rate to a WAV file,
// rewriting the header after every write so the file is always valid.
// Only the Recorder's writer uses it.
type wavFile struct {
	f      *os.File
	frames int64 // stereo sample frames in the file
	buf    []byte
	hdr    []byte
	err    error // the first error; writing stops there
	full   bool  // maxData reached
}

func newWAVFile(f *os.File) (*wavFile, error) {
	w := &wavFile{f: f, buf: make([]byte, 0, 4*ringSamples), hdr: make([]byte, 0, sounds.WAVHeaderLen)}
	if _, err := f.Write(sounds.AppendWAVHeader(w.hdr, Rate, 2, 0)); err != nil {
		return nil, err
	}
	return w, nil
}

// write appends pcm (interleaved stereo) and patches the header. Beyond
// what a RIFF header can describe (37 hours), the rest is dropped.
func (w *wavFile) write(pcm []int16) error {
	if w.err != nil || w.full {
		return nil // said once already
	}
	data := 4 * w.frames
	if data+2*int64(len(pcm)) > maxData {
		w.full = true
		return errors.New("the largest WAV file is reached: the rest of the call is not recorded")
	}
	b := w.buf[:0]
	for _, v := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	w.buf = b
	if _, err := w.f.Write(b); err != nil {
		w.err = err
		return err
	}
	w.frames += int64(len(pcm) / 2)
	w.hdr = sounds.AppendWAVHeader(w.hdr[:0], Rate, 2, int(4*w.frames))
	if _, err := w.f.WriteAt(w.hdr, 0); err != nil {
		w.err = fmt.Errorf("update the header: %w", err)
		return w.err
	}
	return nil
}

func (w *wavFile) taken() int64 { return w.frames }

// close syncs and closes the file.
func (w *wavFile) close() error {
	return errors.Join(w.err, w.f.Sync(), w.f.Close())
}
