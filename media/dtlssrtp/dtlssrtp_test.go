package dtlssrtp

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

func TestFingerprint(t *testing.T) {
	c, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(c.Fingerprint) {
		t.Errorf("fingerprint %q is not sha-256 hex pairs", c.Fingerprint)
	}
	if Fingerprint(c.TLS.Certificate[0]) != c.Fingerprint {
		t.Error("fingerprint differs from the certificate's")
	}
	if Fingerprint([]byte("x")) == c.Fingerprint {
		t.Error("two inputs, one fingerprint")
	}
}

// handshake runs a client and a server over loopback UDP; peerFP is what
// the server believes the client's fingerprint is.
func handshake(t *testing.T, peerFP func(client *Certificate) string) (client, server *dtls.Conn, errc, errs error) {
	t.Helper()
	cc, sc := listen(t), listen(t)
	cCert, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	sCert, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	cp, sp := pipeOn(t, cc, sc), pipeOn(t, sc, cc)
	client, err = dtls.Client(cp, sc.LocalAddr(), Config(cCert, sCert.Fingerprint))
	if err != nil {
		t.Fatal(err)
	}
	server, err = dtls.Server(sp, cc.LocalAddr(), Config(sCert, peerFP(cCert)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- server.HandshakeContext(ctx) }()
	errc = client.HandshakeContext(ctx)
	errs = <-done
	return client, server, errc, errs
}

// pipeOn runs DTLS on a Pipe over conn, to peer: a reader goroutine
// delivers what conn receives, as a demultiplexing socket reader would.
func pipeOn(t *testing.T, conn, peer *net.UDPConn) *Pipe {
	t.Helper()
	p := NewPipe(conn.LocalAddr(), func(b []byte, to netip.AddrPort) error {
		_, err := conn.WriteToUDPAddrPort(b, to)
		return err
	})
	p.SetPeer(peer.LocalAddr().(*net.UDPAddr).AddrPort())
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			p.Deliver(buf[:n])
		}
	}()
	t.Cleanup(func() { _ = conn.Close(); <-done })
	return p
}

func listen(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestContexts: after a handshake the client's sending context is the
// server's receiving one (and the other way), and a replay is refused.
func TestContexts(t *testing.T) {
	client, server, errc, errs := handshake(t, func(c *Certificate) string { return c.Fingerprint })
	if errc != nil || errs != nil {
		t.Fatalf("handshake: client %v, server %v", errc, errs)
	}
	ctx, crx, err := Contexts(client, true)
	if err != nil {
		t.Fatal(err)
	}
	stx, srx, err := Contexts(server, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []struct {
		name   string
		tx, rx *srtp.Context
	}{{"client->server", ctx, srx}, {"server->client", stx, crx}} {
		plain, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 7, SSRC: 1}, Payload: []byte("hello")}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		enc, err := dir.tx.EncryptRTP(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dir.rx.DecryptRTP(nil, enc, nil)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: decrypt %x, %v", dir.name, got, err)
		}
		if _, err := dir.rx.DecryptRTP(nil, enc, nil); err == nil {
			t.Errorf("%s: a replayed packet was accepted", dir.name)
		}
	}
}

// TestFingerprintMismatch: a certificate other than the SDP's fails the
// handshake.
func TestFingerprintMismatch(t *testing.T) {
	_, _, errc, errs := handshake(t, func(*Certificate) string {
		other, err := NewCertificate()
		if err != nil {
			t.Fatal(err)
		}
		return other.Fingerprint
	})
	if errs == nil {
		t.Fatalf("the server accepted a certificate its sdp does not name (client: %v)", errc)
	}
	t.Logf("server: %v; client: %v", errs, errc)
}
