package recording

import "time"

// FlushForBench writes out what lies more than settle behind the clock,
// as the writer goroutine does every flushEvery.
func (r *Recorder) FlushForBench(time.Duration) { r.flush(r.clock() - settle) }
