package media

import "time"

// DTMFExpiry is how long after its last packet a received event whose end
// packets were all lost is still reported.
const DTMFExpiry = time.Second

// DTMFDetector turns received RFC 4733 telephone-event packets into one
// digit per event, reported at its end (§2.5.2). An event is identified by
// its RTP timestamp, so the three end packets count once; a late packet of
// an earlier event is ignored; an event whose end is lost is reported when
// the next one starts or after DTMFExpiry. Reset it on an SSRC change.
type DTMFDetector struct {
	active   bool
	reported bool
	ts       uint32
	event    uint8
	dur      uint16
	clock    uint32
	last     time.Duration
}

// Feed takes one event packet (RTP timestamp ts, payload ev, the event's
// clock rate) received at now, and writes the digits it completes to out,
// returning how many (0, 1 or 2).
func (d *DTMFDetector) Feed(ts uint32, ev DTMFEvent, clock uint32, now time.Duration, out *[2]Event) int {
	n := 0
	if d.active && ts != d.ts {
		if int32(ts-d.ts) < 0 {
			return 0 // a late packet of an earlier event
		}
		if !d.reported { // the previous event's end packets were lost
			n = d.report(out, n)
		}
		d.active = false
	}
	if !d.active {
		*d = DTMFDetector{active: true, ts: ts}
	}
	d.last, d.clock = now, clock
	if d.reported {
		return n
	}
	d.event = ev.Event
	d.dur = max(d.dur, ev.Duration)
	if ev.End {
		n = d.report(out, n)
	}
	return n
}

// Expire reports an event that saw no packet for DTMFExpiry and no end.
func (d *DTMFDetector) Expire(now time.Duration, out *[2]Event) int {
	if d.active && !d.reported && now-d.last > DTMFExpiry {
		return d.report(out, 0)
	}
	return 0
}

func (d *DTMFDetector) report(out *[2]Event, n int) int {
	d.reported = true
	r, ok := EventToDigit(d.event)
	if !ok || d.clock == 0 {
		return n // not a digit (flash, tones): nothing to report
	}
	out[n] = Event{Kind: EventDTMF, Digit: r, Duration: time.Duration(d.dur) * time.Second / time.Duration(d.clock)}
	return n + 1
}

// Pending reports when the last packet of an event that is not reported
// yet arrived: Expire reports it DTMFExpiry after that.
func (d *DTMFDetector) Pending() (last time.Duration, ok bool) {
	return d.last, d.active && !d.reported
}
