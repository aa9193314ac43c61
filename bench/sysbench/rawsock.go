package main

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
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
	// The kernel stamps each datagram's arrival: the poller may run up to
	// a tick later without that time counting as latency.
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("SO_TIMESTAMPNS: %w", err)
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

// rxScratch is what recvFrom needs besides the buffer, allocated once.
type rxScratch struct {
	from sockaddr4
	iov  syscall.Iovec
	msg  syscall.Msghdr
	oob  [64]byte
}

// recvFrom reads one datagram without blocking (EAGAIN when none) and
// returns its arrival time (unix ns) as the kernel stamped it.
func (s *udpSock) recvFrom(b []byte, x *rxScratch) (int, int64, error) {
	x.iov.Base = &b[0]
	x.iov.SetLen(len(b))
	x.msg = syscall.Msghdr{Name: (*byte)(unsafe.Pointer(&x.from.raw)), Namelen: syscall.SizeofSockaddrInet4, Iov: &x.iov, Iovlen: 1,
		Control: &x.oob[0]}
	x.msg.SetControllen(len(x.oob))
	n, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&x.msg)), syscall.MSG_DONTWAIT)
	if e != 0 {
		return 0, 0, e
	}
	at := int64(0)
	if x.msg.Controllen >= syscall.SizeofCmsghdr+16 {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&x.oob[0]))
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS {
			ts := (*syscall.Timespec)(unsafe.Pointer(&x.oob[syscall.SizeofCmsghdr]))
			at = ts.Nano()
		}
	}
	if at == 0 {
		at = time.Now().UnixNano()
	}
	return int(n), at, nil
}

func (s *udpSock) close() { syscall.Close(s.fd) }

// receiver is what the poller hands a ready socket's datagrams to.
type receiver interface {
	receive(pkt []byte, from *sockaddr4, at int64)
}

// poller receives for every socket of a media stage. It has no goroutine
// of its own: the pacer drains it after sending, each millisecond, so
// the generator wakes 1000 times a second whatever the packet rate.
type poller struct {
	epfd     int
	mu       sync.RWMutex // held (read) while draining
	handlers map[int32]*polled
	events   [256]syscall.EpollEvent
	buf      []byte
	rx       rxScratch
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
	return &poller{epfd: fd, handlers: map[int32]*polled{}, buf: make([]byte, 1500)}, nil
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

// maxRounds bounds one drain: each round takes one datagram from every
// ready socket (level-triggered, so what is left is seen next round).
const maxRounds = 8

// drain delivers what has arrived, without blocking; only the pacer's
// goroutine calls it.
func (p *poller) drain() {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for round := 0; round < maxRounds; round++ {
		n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(p.epfd), uintptr(unsafe.Pointer(&p.events[0])), uintptr(len(p.events)), 0, 0, 0)
		if e != 0 || n == 0 {
			return
		}
		for _, ev := range p.events[:n] {
			h := p.handlers[ev.Fd]
			if h == nil {
				continue
			}
			if k, at, err := h.sock.recvFrom(p.buf, &p.rx); err == nil {
				h.r.receive(p.buf[:k], &p.rx.from, at)
			}
		}
	}
}

func (p *poller) close() { syscall.Close(p.epfd) }

// udpAddrPort converts for the places that still speak net.
func udpAddrPort(a *net.UDPAddr) netip.AddrPort {
	ip, _ := netip.AddrFromSlice(a.IP.To4())
	return netip.AddrPortFrom(ip, uint16(a.Port))
}
