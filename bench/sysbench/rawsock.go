package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// The media load generator's sockets live outside Go's netpoller: one
// goroutine waits in epoll for every socket of a stage and drains the
// ready ones, and sends are plain non-blocking sendto calls. With a
// goroutine per socket, each packet cost a goroutine wake-up, a trip
// through the scheduler and a sysmon wake-up, which on a 2-core VM cost
// the generator more than the packets themselves.

// sockaddr4 is an IPv4 address as the kernel takes it.
type sockaddr4 struct{ raw syscall.RawSockaddrInet4 }

func newSockaddr4(ap netip.AddrPort) *sockaddr4 {
	a := &sockaddr4{}
	a.raw.Family = syscall.AF_INET
	p := (*[2]byte)(unsafe.Pointer(&a.raw.Port))
	p[0], p[1] = byte(ap.Port()>>8), byte(ap.Port())
	a.raw.Addr = ap.Addr().As4()
	return a
}

func (a *sockaddr4) addrPort() netip.AddrPort {
	p := (*[2]byte)(unsafe.Pointer(&a.raw.Port))
	return netip.AddrPortFrom(netip.AddrFrom4(a.raw.Addr), uint16(p[0])<<8|uint16(p[1]))
}

// udpSock is a non-blocking UDP socket bound to 127.0.0.1 on a port the
// kernel chose.
type udpSock struct {
	fd   int
	port int
}

func openUDP() (*udpSock, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("bind: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("getsockname: %w", err)
	}
	return &udpSock{fd: fd, port: sa.(*syscall.SockaddrInet4).Port}, nil
}

// sendTo sends one datagram without blocking; a full socket buffer drops it.
func (s *udpSock) sendTo(b []byte, to *sockaddr4) error {
	if len(b) == 0 {
		return nil
	}
	_, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		syscall.MSG_DONTWAIT, uintptr(unsafe.Pointer(&to.raw)), syscall.SizeofSockaddrInet4)
	if e != 0 {
		return e
	}
	return nil
}

// recvFrom reads one datagram without blocking (EAGAIN when none).
func (s *udpSock) recvFrom(b []byte, from *sockaddr4) (int, error) {
	l := uint32(syscall.SizeofSockaddrInet4)
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		syscall.MSG_DONTWAIT, uintptr(unsafe.Pointer(&from.raw)), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func (s *udpSock) close() { syscall.Close(s.fd) }

// receiver is what the poller hands a ready socket's datagrams to.
type receiver interface {
	receive(pkt []byte, from *sockaddr4)
}

// poller is the one receiving goroutine of a media stage.
type poller struct {
	epfd     int
	mu       sync.RWMutex // held (read) while a batch of events is handled
	handlers map[int32]*polled
	stop     atomic.Bool
	done     chan struct{}
}

type polled struct {
	sock *udpSock
	r    receiver
}

func newPoller() (*poller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	p := &poller{epfd: fd, handlers: map[int32]*polled{}, done: make(chan struct{})}
	go p.loop()
	return p, nil
}

func (p *poller) add(s *udpSock, r receiver) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handlers[int32(s.fd)] = &polled{sock: s, r: r}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(s.fd)}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
		delete(p.handlers, int32(s.fd))
		return fmt.Errorf("epoll add: %w", err)
	}
	return nil
}

// remove stops delivering s's datagrams: when it returns, no receive for
// s runs or will run, so s can be closed.
func (p *poller) remove(s *udpSock) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, s.fd, nil)
	delete(p.handlers, int32(s.fd))
}

// maxDrain bounds the datagrams taken from one socket per event, so one
// busy socket cannot starve the others.
const maxDrain = 16

func (p *poller) loop() {
	defer close(p.done)
	var events [256]syscall.EpollEvent
	buf := make([]byte, 1500)
	var from sockaddr4
	for !p.stop.Load() {
		n, err := syscall.EpollWait(p.epfd, events[:], 100) // ms: stop is seen within 0.1 s
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return
		}
		p.mu.RLock()
		for _, ev := range events[:n] {
			h := p.handlers[ev.Fd]
			if h == nil {
				continue
			}
			for i := 0; i < maxDrain; i++ {
				k, err := h.sock.recvFrom(buf, &from)
				if err != nil {
					break
				}
				h.r.receive(buf[:k], &from)
			}
		}
		p.mu.RUnlock()
	}
}

// close stops the loop (bounded by the epoll timeout).
func (p *poller) close() {
	p.stop.Store(true)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	syscall.Close(p.epfd)
}

// udpAddrPort converts for the places that still speak net.
func udpAddrPort(a *net.UDPAddr) netip.AddrPort {
	ip, _ := netip.AddrFromSlice(a.IP.To4())
	return netip.AddrPortFrom(ip, uint16(a.Port))
}
