package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// rtpengine is the media reference: rtpengine in userspace (--table=-1,
// no kernel forwarding), driven over its ng control protocol (bencode
// over UDP) with the same offers and answers the softswitch's legs see.
type rtpengine struct {
	cmd    *exec.Cmd
	ng     *net.UDPConn
	stderr *bytes.Buffer
	log    *lockedBuffer
	done   chan struct{}
	mu     sync.Mutex
	seq    int
}

func startRTPengine(ctx context.Context, dir string) (*rtpengine, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &rtpengine{stderr: &bytes.Buffer{}, done: make(chan struct{})}
	r.cmd = exec.Command("rtpengine", "--foreground", "--log-stderr", "--config-file=none", "--table=-1",
		"--interface=127.0.0.1", "--listen-ng=127.0.0.1:"+strconv.Itoa(port), "--port-min=40000", "--port-max=59999",
		"--num-threads=2", "--log-level=4", "--pidfile="+filepath.Join(dir, "rtpengine.pid"))
	r.log = &lockedBuffer{b: r.stderr}
	r.cmd.Stderr = r.log
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	if r.ng, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
		r.stop()
		return nil, err
	}
	for i := 0; ; i++ {
		if _, err := r.command(map[string]any{"command": "ping"}); err == nil {
			return r, nil
		} else if i == 40 {
			r.stop()
			return nil, fmt.Errorf("rtpengine: %w\n%s", err, r.stderr)
		}
		select {
		case <-r.done:
			return nil, fmt.Errorf("rtpengine exited at start:\n%s", r.stderr)
		case <-ctx.Done():
			r.stop()
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (r *rtpengine) tree() procTree { return procTree{root: r.cmd.Process.Pid} }

func (r *rtpengine) stop() {
	_ = r.cmd.Process.Kill()
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
	}
	if r.ng != nil {
		r.ng.Close()
	}
}

// command sends one ng command and returns the reply dictionary.
func (r *rtpengine) command(cmd map[string]any) (map[string]any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	cookie := fmt.Sprintf("c%d", r.seq)
	var b bytes.Buffer
	b.WriteString(cookie + " ")
	bencode(&b, cmd)
	if _, err := r.ng.Write(b.Bytes()); err != nil {
		return nil, fmt.Errorf("ng: %w", err)
	}
	buf := make([]byte, 65535)
	sends := 1
	for i := 0; i < 1000; i++ {
		_ = r.ng.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := r.ng.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && sends < 3 {
			// A loaded rtpengine answers late: send the same cookie
			// again (it answers a repeated cookie from its cache).
			sends++
			if _, err := r.ng.Write(b.Bytes()); err != nil {
				return nil, fmt.Errorf("ng: %w", err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ng %v (sent %d times): %w", cmd["command"], sends, err)
		}
		got, rest, ok := bytes.Cut(buf[:n], []byte(" "))
		if !ok || string(got) != cookie {
			continue // a late reply to an earlier command
		}
		v, _, err := bdecode(rest)
		if err != nil {
			return nil, err
		}
		d, _ := v.(map[string]any)
		if d == nil {
			return nil, errors.New("ng: reply is not a dictionary")
		}
		if res, _ := d["result"].(string); res != "ok" && res != "pong" {
			return d, fmt.Errorf("ng %v: %v %v", cmd["command"], d["result"], d["error-reason"])
		}
		return d, nil
	}
	return nil, errors.New("ng: no reply among 1000 datagrams")
}

// offer hands A's SDP to rtpengine and returns the SDP for B; with
// transcode, B is offered plain RTP/AVP PCMU only (Opus is masked).
func (r *rtpengine) offer(callID, fromTag string, sdp []byte, transcode bool) ([]byte, error) {
	cmd := map[string]any{"command": "offer", "call-id": callID, "from-tag": fromTag, "sdp": string(sdp),
		"replace": []any{"origin", "session-connection"}}
	if transcode {
		cmd["transport-protocol"] = "RTP/AVP"
		cmd["ICE"] = "remove"
		cmd["rtcp-mux"] = []any{"demux"}
		cmd["codec"] = map[string]any{"mask": []any{"opus"}, "transcode": []any{"PCMU"}}
	}
	d, err := r.command(cmd)
	if err != nil {
		return nil, err
	}
	s, _ := d["sdp"].(string)
	return []byte(s), nil
}

// answer hands B's SDP to rtpengine and returns the SDP for A.
func (r *rtpengine) answer(callID, fromTag, toTag string, sdp []byte) ([]byte, error) {
	d, err := r.command(map[string]any{"command": "answer", "call-id": callID, "from-tag": fromTag, "to-tag": toTag,
		"sdp": string(sdp), "replace": []any{"origin", "session-connection"}})
	if err != nil {
		return nil, err
	}
	s, _ := d["sdp"].(string)
	return []byte(s), nil
}

func (r *rtpengine) delete(callID, fromTag string) error {
	_, err := r.command(map[string]any{"command": "delete", "call-id": callID, "from-tag": fromTag})
	return err
}

// bencode writes v (string, int, []any, map[string]any) in bencoding.
func bencode(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case string:
		fmt.Fprintf(b, "%d:%s", len(x), x)
	case int:
		fmt.Fprintf(b, "i%de", x)
	case []any:
		b.WriteByte('l')
		for _, e := range x {
			bencode(b, e)
		}
		b.WriteByte('e')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('d')
		for _, k := range keys {
			bencode(b, k)
			bencode(b, x[k])
		}
		b.WriteByte('e')
	}
}

// bdecode reads one bencoded value and returns the rest of the input.
func bdecode(p []byte) (any, []byte, error) {
	if len(p) == 0 {
		return nil, nil, errors.New("bencode: short input")
	}
	switch c := p[0]; {
	case c == 'i':
		end := bytes.IndexByte(p, 'e')
		if end < 0 {
			return nil, nil, errors.New("bencode: bad integer")
		}
		n, err := strconv.Atoi(string(p[1:end]))
		return n, p[end+1:], err
	case c == 'l':
		var out []any
		p = p[1:]
		for len(p) > 0 && p[0] != 'e' {
			v, rest, err := bdecode(p)
			if err != nil {
				return nil, nil, err
			}
			out, p = append(out, v), rest
		}
		if len(p) == 0 {
			return nil, nil, errors.New("bencode: unterminated list")
		}
		return out, p[1:], nil
	case c == 'd':
		out := map[string]any{}
		p = p[1:]
		for len(p) > 0 && p[0] != 'e' {
			k, rest, err := bdecode(p)
			if err != nil {
				return nil, nil, err
			}
			v, rest, err := bdecode(rest)
			if err != nil {
				return nil, nil, err
			}
			ks, _ := k.(string)
			out[ks], p = v, rest
		}
		if len(p) == 0 {
			return nil, nil, errors.New("bencode: unterminated dictionary")
		}
		return out, p[1:], nil
	case c >= '0' && c <= '9':
		colon := bytes.IndexByte(p, ':')
		if colon < 0 {
			return nil, nil, errors.New("bencode: bad string")
		}
		n, err := strconv.Atoi(string(p[:colon]))
		if err != nil || colon+1+n > len(p) {
			return nil, nil, errors.New("bencode: bad string length")
		}
		return string(p[colon+1 : colon+1+n]), p[colon+1+n:], nil
	}
	return nil, nil, fmt.Errorf("bencode: unexpected %q", p[0])
}
