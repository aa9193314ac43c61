package rtpep

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// rtcpPoller reads the RTCP sockets of every endpoint of a port pool on
// one goroutine, woken by epoll, instead of one goroutine per endpoint:
// RTCP comes every few seconds, and each idle goroutine kept a stack of
// several KiB for a call's whole life. The goroutine runs while at least
// one socket is registered; the last endpoint to leave waits for it.
type rtcpPoller struct {
	mu     sync.Mutex // guards the fields below and every drain
	run    *rtcpRun   // nil while no socket is registered
	next   uint64     // the next endpoint's key (0 is the stop event's)
	failed bool       // epoll could not start: endpoints read RTCP themselves
}

// rtcpRun is one run of the poller's goroutine: its epoll and stop event.
type rtcpRun struct {
	epfd, stop int
	eps        map[uint64]rtcpReg
	done       chan struct{} // closed when the goroutine has returned
	dead       bool          // epoll failed: its descriptors are (being) closed
}

// rtcpReg is a registered socket.
type rtcpReg struct {
	e  *Endpoint
	fd int
}

// rtcpPollEvents bounds the sockets one wake-up reports.
const rtcpPollEvents = 64

// add registers e's RTCP socket; the returned func deregisters it and
// must be called before the socket is closed. ok is false when epoll is
// not available: e then reads its RTCP on a goroutine of its own.
func (p *rtcpPoller) add(e *Endpoint) (remove func(), ok bool) {
	rc, err := e.rtcpConn.SyscallConn()
	if err != nil {
		return nil, false
	}
	fd := -1
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil || fd < 0 {
		return nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed {
		return nil, false
	}
	if p.run == nil {
		r, err := startRTCPRun()
		if err != nil {
			p.failed = true
			e.log.Warn("rtcp poller not started: each endpoint reads its own", "error", err)
			return nil, false
		}
		p.run = r
		go p.loop(r)
	}
	r := p.run
	p.next++
	key := p.next
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	putKey(&ev, key)
	if err := unix.EpollCtl(r.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		e.log.Warn("rtcp socket not polled: the endpoint reads it itself", "error", err)
		p.stopIfIdle(r)
		return nil, false
	}
	r.eps[key] = rtcpReg{e: e, fd: fd}
	return func() { p.remove(r, key) }, true
}

// remove deregisters a socket; the last one stops the run and waits for
// its goroutine.
func (p *rtcpPoller) remove(r *rtcpRun, key uint64) {
	p.mu.Lock()
	reg, ok := r.eps[key]
	if ok {
		delete(r.eps, key)
		if !r.dead {
			_ = unix.EpollCtl(r.epfd, unix.EPOLL_CTL_DEL, reg.fd, nil)
		}
	}
	done := p.stopIfIdle(r)
	p.mu.Unlock()
	if done != nil {
		<-done
	}
}

// stopIfIdle stops run r when it has no socket left (under mu) and
// returns the channel closed when its goroutine has returned.
func (p *rtcpPoller) stopIfIdle(r *rtcpRun) <-chan struct{} {
	if len(r.eps) > 0 || p.run != r {
		return nil
	}
	p.run = nil
	one := [8]byte{1}
	_, _ = unix.Write(r.stop, one[:])
	return r.done
}

// loop waits for readable sockets and drains them until its stop event.
func (p *rtcpPoller) loop(r *rtcpRun) {
	defer close(r.done)
	defer unix.Close(r.stop)
	defer unix.Close(r.epfd)
	var evs [rtcpPollEvents]unix.EpollEvent
	for {
		n, err := unix.EpollWait(r.epfd, evs[:], -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			p.fail(r, err)
			return
		}
		p.mu.Lock()
		for i := range n {
			key := getKey(&evs[i])
			if key == 0 {
				p.mu.Unlock()
				return
			}
			// A socket removed since EpollWait returned is not in eps
			// (and may be closed): it is skipped.
			if reg, ok := r.eps[key]; ok {
				reg.e.rtcpReader.Drain(reg.fd)
			}
		}
		p.mu.Unlock()
	}
}

// fail ends a run whose epoll broke: its endpoints stop receiving RTCP
// (RTP is not affected), new ones read their own.
func (p *rtcpPoller) fail(r *rtcpRun, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, reg := range r.eps {
		reg.e.log.Warn("rtcp poller failed: no more RTCP read for this endpoint", "error", err)
	}
	r.dead = true
	if p.run == r {
		p.run = nil
	}
	p.failed = true
}

// startRTCPRun creates an epoll with its stop event registered as key 0.
func startRTCPRun() (*rtcpRun, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	stop, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, stop, &ev); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(stop)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	return &rtcpRun{epfd: epfd, stop: stop, eps: make(map[uint64]rtcpReg), done: make(chan struct{})}, nil
}

// putKey and getKey keep a 64-bit key in an event's data (Fd and Pad).
func putKey(ev *unix.EpollEvent, key uint64) {
	ev.Fd = int32(uint32(key))
	ev.Pad = int32(uint32(key >> 32))
}

func getKey(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}
