package b2bua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/recording"
	"github.com/softswitch/softswitch/sounds"
)

// recordRate is the rate recordings are kept and written at: telephone
// audio, whatever the leg's codec.
const recordRate = 8000

// errNoDataDir is returned by Record and Voicemail when the engine has no
// data directory to store audio in.
var errNoDataDir = errors.New("no data directory configured")

var _ dialplan.Recorder = (*Call)(nil)

// Record records the caller into the recordings directory as NAME.wav (see
// dialplan.Recorder). It answers the call first.
func (c *Call) Record(ctx context.Context, name string, o dialplan.RecordOptions) (dialplan.RecordResult, error) {
	if err := c.gone(ctx); err != nil {
		return dialplan.RecordResult{}, err
	}
	if err := dialplan.CheckRecordName(name); err != nil {
		return dialplan.RecordResult{}, fmt.Errorf("record: %w", err)
	}
	path, err := c.e.recordingPath(name, recording.FormatWAV) // mono, whatever the call recordings' format
	if err != nil {
		return dialplan.RecordResult{}, fmt.Errorf("record: %w", err)
	}
	if err := c.Answer(ctx); err != nil {
		return dialplan.RecordResult{}, fmt.Errorf("record: %w", err)
	}
	pcm, reason := c.capture(ctx, o)
	res := dialplan.RecordResult{Path: path, Reason: reason, Duration: samplesDuration(len(pcm))}
	if err := sounds.WriteFile(path, &sounds.Prompt{Rate: recordRate, PCM: pcm}); err != nil {
		return res, fmt.Errorf("record: %w", err)
	}
	c.log.Info("recorded", "path", path, "duration", res.Duration.Round(time.Millisecond), "stop", reason)
	return res, c.gone(ctx)
}

func samplesDuration(n int) time.Duration {
	return time.Duration(n) * time.Second / recordRate
}

// capture records leg A's audio until a terminator digit, the silence
// limit, the maximum length or the caller's hangup, and returns it at
// recordRate with why it stopped. Audio from a caller who stopped
// sending at all counts as silence too.
func (c *Call) capture(ctx context.Context, o dialplan.RecordOptions) ([]int16, string) {
	maxSamples := int(o.Max.Seconds() * recordRate)
	silence := int(o.Silence.Seconds() * recordRate)
	capt := media.NewCapture(recordRate, maxSamples, silence)
	c.a.SetAudioOutput(media.NewRateAdapter(capt, c.a.AudioSink().Rate()))
	defer c.a.SetAudioOutput(discard{rate: c.a.AudioSink().Rate()})
	c.drainDigits()

	// A bound on wall time in case frames stop arriving: the maximum plus
	// some slack for a late start.
	deadline := time.NewTimer(o.Max + 2*time.Second)
	defer deadline.Stop()
	// A caller who sends nothing (no RTP during silence) is silent too.
	var check <-chan time.Time
	if o.Silence > 0 {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		check = tick.C
	}
	last, lastAt := 0, time.Now()
	for {
		select {
		case <-capt.Full():
			return capt.Stop(false), dialplan.StopMax
		case <-capt.Silence():
			return capt.Stop(true), dialplan.StopSilence
		case <-deadline.C:
			return capt.Stop(false), dialplan.StopMax
		case d := <-c.digits:
			if strings.ContainsRune(o.Terminator, d) {
				return capt.Stop(false), dialplan.StopTerminator
			}
		case now := <-check:
			if n := capt.Samples(); n != last {
				last, lastAt = n, now
			} else if now.Sub(lastAt) >= o.Silence {
				return capt.Stop(false), dialplan.StopSilence
			}
		case <-ctx.Done():
			return capt.Stop(false), dialplan.StopHangup
		}
	}
}

// drainDigits drops digits pressed before now (e.g. during a prompt), so
// that they do not stop what starts next.
func (c *Call) drainDigits() {
	for range cap(c.digits) {
		select {
		case <-c.digits:
		default:
			return
		}
	}
}
