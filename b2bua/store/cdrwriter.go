package store

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// CDRWriter batches CDRs off the call path: Progress and Write only queue,
// a goroutine saves batches every FlushEvery or when a batch is full, and
// Close saves whatever is queued. A record is never dropped: when the queue
// is full, it is saved synchronously. While calls are open, the writer also
// records a heartbeat every HeartbeatEvery: the end time a crash leaves to
// the calls it cuts.
type CDRWriter struct {
	st        *Store
	log       *slog.Logger
	every     time.Duration
	heartbeat time.Duration
	queue     chan CDR
	done      chan struct{}
	once      sync.Once
	wg        sync.WaitGroup

	mu   sync.Mutex
	open map[string]struct{} // uids of the calls in progress

	closing sync.RWMutex // held for reading while queueing
	closed  bool         // no more queueing: save synchronously
}

const (
	cdrBatch = 200
	// HeartbeatEvery bounds how much of an interrupted call's duration a
	// crash can lose.
	HeartbeatEvery = 2 * time.Second
)

// NewCDRWriter starts the writer goroutine. A record given to Progress or
// Write is in the database within about flushEvery (default 500 ms).
func NewCDRWriter(st *Store, flushEvery time.Duration, log *slog.Logger) *CDRWriter {
	return newCDRWriter(st, flushEvery, HeartbeatEvery, log)
}

func newCDRWriter(st *Store, flushEvery, heartbeat time.Duration, log *slog.Logger) *CDRWriter {
	if flushEvery <= 0 {
		flushEvery = 500 * time.Millisecond
	}
	w := &CDRWriter{st: st, log: log, every: flushEvery, heartbeat: heartbeat,
		queue: make(chan CDR, 4096), done: make(chan struct{}), open: make(map[string]struct{})}
	w.wg.Add(1)
	go w.run()
	return w
}

// Progress queues the record of a call still in progress (State
// CDRRinging or CDRUp, with a UID): its row exists before the call ends.
func (w *CDRWriter) Progress(c CDR) {
	if c.UID != "" {
		w.mu.Lock()
		w.open[c.UID] = struct{}{}
		w.mu.Unlock()
	}
	w.enqueue(c)
}

// Write queues the final record of a call.
func (w *CDRWriter) Write(c CDR) {
	if c.State == "" || c.Open() {
		c.State = CDREnded
	}
	if c.UID != "" {
		w.mu.Lock()
		delete(w.open, c.UID)
		w.mu.Unlock()
	}
	w.enqueue(c)
}

func (w *CDRWriter) enqueue(c CDR) {
	queued := false
	w.closing.RLock()
	if !w.closed {
		select {
		case w.queue <- c:
			queued = true
		default:
		}
	}
	w.closing.RUnlock()
	if !queued {
		w.save([]CDR{c})
	}
}

func (w *CDRWriter) run() {
	defer w.wg.Done()
	t := time.NewTicker(w.every)
	defer t.Stop()
	var beat time.Time
	batch := make([]CDR, 0, cdrBatch)
	for {
		select {
		case c := <-w.queue:
			batch = append(batch, c)
			if len(batch) >= cdrBatch {
				batch = w.save(batch)
			}
		case now := <-t.C:
			batch = w.save(batch)
			if now.Sub(beat) >= w.heartbeat && w.callsOpen() {
				beat = now
				w.beat(now)
			}
		case <-w.done:
			for {
				select {
				case c := <-w.queue:
					batch = append(batch, c)
				default:
					w.save(batch)
					return
				}
			}
		}
	}
}

func (w *CDRWriter) callsOpen() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.open) > 0
}

func (w *CDRWriter) beat(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.st.SetCDRHeartbeat(ctx, now); err != nil {
		w.log.Warn("CDR heartbeat not saved", "error", err)
	}
}

// save writes batch, retrying once, and returns it emptied.
func (w *CDRWriter) save(batch []CDR) []CDR {
	if len(batch) == 0 {
		return batch
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := w.st.SaveCDRs(ctx, batch)
	if err != nil {
		time.Sleep(100 * time.Millisecond)
		err = w.st.SaveCDRs(ctx, batch)
	}
	if err != nil {
		for _, c := range batch {
			w.log.Error("CDR not saved", "call_id", c.CallID, "state", c.State, "caller", c.Caller,
				"destination", c.Destination, "start", c.Start, "end", c.End, "cause", c.Cause, "error", err)
		}
	}
	return batch[:0]
}

// Close saves everything queued and stops the writer. Calls to Progress
// and Write after Close save synchronously.
func (w *CDRWriter) Close() error {
	w.once.Do(func() {
		w.closing.Lock()
		w.closed = true
		w.closing.Unlock()
		close(w.done)
	})
	w.wg.Wait()
	return nil
}
