package audiotest

import (
	"bytes"
	"runtime"
)

// GoroutinesIn counts the goroutines whose stack holds fn (a function
// name as runtime.Stack prints it, e.g. "rtpep.(*rtcpPoller).loop").
func GoroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	c := 0
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte(fn)) {
			c++
		}
	}
	return c
}
