// Package udpread reads the media endpoints' UDP sockets without holding
// a buffer while a socket waits: a reader waits for its socket to be
// readable through the runtime's poller (syscall.RawConn.Read), then
// drains the non-blocking socket with recvfrom(2) into a buffer taken
// from a pool shared by every reader, and gives the buffer back. A call
// has packets 20 ms apart and waits between them, so its endpoints no
// longer keep 1.5 KiB each for the datagram to come. Nothing is allocated
// per datagram.
package udpread
