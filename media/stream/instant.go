package stream

import (
	"sync/atomic"
	"time"
)

// Instant is a moment noted once: the first Mark sets it, later ones
// only read it. Safe from any goroutine; a Mark after the first costs one
// atomic load and allocates nothing, so the media path may call it per
// packet.
type Instant struct{ ns atomic.Int64 } // Unix nanoseconds; 0: not yet

// Mark notes now, unless a moment is already noted.
func (i *Instant) Mark() {
	if i.ns.Load() == 0 {
		i.ns.CompareAndSwap(0, time.Now().UnixNano())
	}
}

// Time is the moment noted, or the zero time.
func (i *Instant) Time() time.Time {
	if ns := i.ns.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}
