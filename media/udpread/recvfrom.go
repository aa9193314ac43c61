package udpread

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"unsafe"
)

// RecvFrom reads one datagram from the non-blocking socket fd into p and
// returns its length and source (IPv4-mapped sources unmapped), without
// allocating (syscall.Recvfrom allocates the source's Sockaddr). rsa is
// the caller's space for the source. A source that is neither IPv4 nor
// IPv6 is returned invalid.
func RecvFrom(fd int, p []byte, rsa *syscall.RawSockaddrAny) (int, netip.AddrPort, syscall.Errno) {
	l := uint32(syscall.SizeofSockaddrAny)
	n, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
		0, uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(&l)))
	if errno != 0 {
		return 0, netip.AddrPort{}, errno
	}
	return int(n), sockaddrAddrPort(rsa), 0
}

// sockaddrAddrPort converts a raw IPv4 or IPv6 socket address.
func sockaddrAddrPort(rsa *syscall.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case syscall.AF_INET:
		a := (*syscall.RawSockaddrInet4)(unsafe.Pointer(rsa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&a.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), port)
	case syscall.AF_INET6:
		a := (*syscall.RawSockaddrInet6)(unsafe.Pointer(rsa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&a.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), port)
	}
	return netip.AddrPort{}
}
