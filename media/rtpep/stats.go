package rtpep

import "github.com/softswitch/softswitch/media/stream"

// Stats counts what an endpoint did since New: the stream's counters and
// RTCP's.
type Stats struct {
	stream.Stats
	RTCPSent     uint64 // sender reports sent
	RTCPReceived uint64 // RTCP packets read (reports from the latched peer reach the stream)
}
