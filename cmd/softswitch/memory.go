package main

import (
	"log/slog"
	"runtime/debug"
	"time"
)

// memoryReturner gives the memory of ended calls back to the system. The
// Go runtime collects as it allocates (or every two minutes), so a server
// that falls idle after a burst of calls keeps the burst's garbage and
// its peak RSS. When the calls in progress fell to half their peak (by at
// least minDrop), it collects and returns the freed pages once.
type memoryReturner struct {
	stop chan struct{}
	done chan struct{}
}

// memoryMinDrop is the fewest ended calls worth a collection.
const memoryMinDrop = 16

// memoryAgain is when a return is repeated once: the SIP transactions of
// the ended calls (timers J and K, 32 s over UDP) hold some of their
// memory until then.
const memoryAgain = 35 * time.Second

func startMemoryReturner(active func() int, every time.Duration, log *slog.Logger) *memoryReturner {
	m := &memoryReturner{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		peak := 0
		var again time.Time // a repeat is due then, when not zero
		for {
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
			n := active()
			peak = max(peak, n)
			switch {
			case peak-n >= memoryMinDrop && n <= peak/2:
				m.free(log, n, peak)
				peak = n
				again = time.Now().Add(memoryAgain)
			case !again.IsZero() && time.Now().After(again):
				m.free(log, n, peak)
				again = time.Time{}
			}
		}
	}()
	return m
}

func (m *memoryReturner) free(log *slog.Logger, calls, peak int) {
	start := time.Now()
	debug.FreeOSMemory()
	log.Debug("returned the memory of ended calls", "calls", calls, "peak", peak, "took", time.Since(start))
}

// close stops the returner and waits for it.
func (m *memoryReturner) close() {
	close(m.stop)
	<-m.done
}
