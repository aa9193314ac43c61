package b2bua

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/recording"
)

var _ dialplan.CallRecorder = (*Call)(nil)

// errRecordingExists refuses a call recording name already taken.
var errRecordingExists = errors.New("a recording of that name exists")

// recordingPath is where the recording called name goes in format f: a
// plain name (dialplan.CheckRecordName), inside the recordings directory
// only.
func (e *Engine) recordingPath(name string, f recording.Format) (string, error) {
	if err := dialplan.CheckRecordName(name); err != nil {
		return "", err
	}
	dir := e.cfg.Recordings
	if dir == "" {
		if e.cfg.DataDir == "" {
			return "", errNoDataDir
		}
		dir = filepath.Join(e.cfg.DataDir, "recordings")
	}
	return recording.Path(dir, name, f)
}

// RecordCall records the call's bridges from now on into one stereo WAV
// (see dialplan.CallRecorder): the file is created when a callee
// answers and goes on through hold and transfers until the bridge ends.
// An empty name is DATE-TIME-UID (the CDR's UID).
func (c *Call) RecordCall(ctx context.Context, name string) (string, error) {
	if err := c.gone(ctx); err != nil {
		return "", err
	}
	if name == "" {
		c.mu.Lock()
		uid := c.cdr.UID
		c.mu.Unlock()
		name = time.Now().UTC().Format("20060102-150405") + "-" + uid
	}
	path, err := c.e.recordingPath(name, c.e.cfg.RecordingFormat)
	if err != nil {
		return "", fmt.Errorf("record_call: %w", err)
	}
	if _, err := os.Lstat(path); err == nil {
		return "", fmt.Errorf("record_call: %s: %w", path, errRecordingExists)
	}
	c.recPath = path
	c.log.Info("call recording armed", "path", path)
	return path, nil
}

// startRecording opens the armed recording, if any, as a bridge begins;
// a recording already running (a transfer's next bridge) goes on. A file
// that cannot be created is logged and the call goes on unrecorded.
func (c *Call) startRecording() {
	if c.rec != nil || c.recPath == "" {
		return
	}
	path := c.recPath
	c.recPath = ""
	r, err := recording.New(path, c.log, recording.WithFormat(c.e.cfg.RecordingFormat))
	if err != nil {
		c.log.Warn("call recording failed: the call goes on unrecorded", "error", err)
		return
	}
	c.rec = r
	c.mu.Lock()
	c.cdr.Recording = path
	c.mu.Unlock()
	c.progressCDR("") // the open record names the file: a crash leaves both
	c.log.Info("call recording started", "path", path)
}

// stopRecording closes the call's recording once its bridge is over.
func (c *Call) stopRecording() {
	if c.rec == nil {
		return
	}
	d, err := c.rec.Close()
	if err != nil {
		c.log.Warn("call recording ended with an error", "path", c.rec.Path(), "duration", d.Round(time.Millisecond), "error", err)
	} else {
		c.log.Info("call recording ended", "path", c.rec.Path(), "duration", d.Round(time.Millisecond))
	}
	c.rec = nil
}

// tap puts the call's recording, if any, in front of dst on channel ch.
func (c *Call) tap(ch recording.Channel, dst media.Sink) media.Sink {
	if c.rec == nil {
		return dst
	}
	return c.rec.Tap(ch, dst)
}
