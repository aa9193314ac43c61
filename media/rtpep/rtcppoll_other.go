//go:build !linux

package rtpep

// rtcpPoller is Linux's (epoll); elsewhere every endpoint reads its RTCP
// on a goroutine of its own.
type rtcpPoller struct{}

func (p *rtcpPoller) add(*Endpoint) (remove func(), ok bool) { return nil, false }
