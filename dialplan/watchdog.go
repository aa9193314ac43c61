package dialplan

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// watchdog enforces the CPU budget of one run: it cancels the run's context
// with ErrBudget once Lua has been running for longer than the budget since
// the run started or since the last blocking call API returned. Time spent
// inside a call API (between enter and leave) does not count.
//
// gopher-lua checks the run's context before every instruction, so the
// cancellation stops the script at the instruction it is running.
//
// It is a timer, not a goroutine of its own: the timer's function runs
// only when a budget's worth of time has passed, re-arms itself for the
// rest of the budget, and does nothing once the watchdog is closed.
type watchdog struct {
	budget time.Duration
	start  time.Time // monotonic origin of luaSince
	// luaSince is 1 + the time since start at which Lua last started
	// running, or 0 while the script is inside a call API.
	luaSince atomic.Int64
	cancel   context.CancelCauseFunc

	mu     sync.Mutex
	timer  *time.Timer
	closed bool
}

// startWatchdog arms the watchdog; the caller must call close. Lua is
// taken to be running from now on.
func startWatchdog(budget time.Duration, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{budget: budget, start: time.Now(), cancel: cancel}
	w.luaSince.Store(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = time.AfterFunc(budget, w.check)
	return w
}

// enter marks the start of a (possibly blocking) call API.
func (w *watchdog) enter() { w.luaSince.Store(0) }

// leave marks the return to Lua from a call API.
func (w *watchdog) leave() { w.luaSince.Store(int64(time.Since(w.start)) + 1) }

// close disarms the watchdog: once it returns, the run is not canceled.
func (w *watchdog) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.timer.Stop()
}

// check runs when the timer fires: it cancels the run if Lua has used up
// its budget, else re-arms the timer for when it would.
func (w *watchdog) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	since := w.luaSince.Load()
	if since == 0 { // blocked in the API: look again one budget later
		w.timer.Reset(w.budget)
		return
	}
	running := time.Since(w.start) - time.Duration(since-1)
	if running >= w.budget {
		w.closed = true
		w.cancel(ErrBudget)
		return
	}
	w.timer.Reset(w.budget - running)
}
