package store

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// CDRWriter batches CDRs off the call path: Write only queues, a goroutine
// saves batches every FlushEvery or when a batch is full, and Close saves
// whatever is queued. A record is never dropped: when the queue is full,
// Write saves synchronously.
type CDRWriter struct {
	st    *Store
	log   *slog.Logger
	every time.Duration
	queue chan CDR
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

const cdrBatch = 200

// NewCDRWriter starts the writer goroutine.
func NewCDRWriter(st *Store, flushEvery time.Duration, log *slog.Logger) *CDRWriter {
	if flushEvery <= 0 {
		flushEvery = 500 * time.Millisecond
	}
	w := &CDRWriter{st: st, log: log, every: flushEvery, queue: make(chan CDR, 4096), done: make(chan struct{})}
	w.wg.Add(1)
	go w.run()
	return w
}

// Write queues one record.
func (w *CDRWriter) Write(c CDR) {
	select {
	case w.queue <- c:
	default:
		w.save([]CDR{c})
	}
}

func (w *CDRWriter) run() {
	defer w.wg.Done()
	t := time.NewTicker(w.every)
	defer t.Stop()
	batch := make([]CDR, 0, cdrBatch)
	for {
		select {
		case c := <-w.queue:
			batch = append(batch, c)
			if len(batch) >= cdrBatch {
				batch = w.save(batch)
			}
		case <-t.C:
			batch = w.save(batch)
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
			w.log.Error("CDR not saved", "call_id", c.CallID, "caller", c.Caller, "destination", c.Destination,
				"start", c.Start, "end", c.End, "cause", c.Cause, "error", err)
		}
	}
	return batch[:0]
}

// Close saves everything queued and stops the writer. Calls to Write after
// Close save synchronously.
func (w *CDRWriter) Close() error {
	w.once.Do(func() { close(w.done) })
	w.wg.Wait()
	return nil
}
