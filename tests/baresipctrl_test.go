package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// freeTCPPortOn returns a TCP port on ip that the OS had free a moment ago.
func freeTCPPortOn(t *testing.T, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// command runs a baresip command (e.g. "hold", "resume", "dial" with
// params "*98", "sndcode" with "7") through its ctrl_tcp module
// (netstring-framed JSON) and fails the test unless baresip answers ok.
// baresipOpts.ctrlPort must be set.
func (b *baresip) command(t *testing.T, port int, cmd, params string) {
	t.Helper()
	baresipCommand(t, net.JoinHostPort(testHostIP, strconv.Itoa(port)), cmd, params)
}

// baresipCommand is baresip.command for a phone known by its ctrl_tcp
// address.
func baresipCommand(t *testing.T, addr, cmd, params string) {
	t.Helper()
	var c net.Conn
	var err error
	for range 50 { // baresip may still be starting
		if c, err = net.DialTimeout("tcp", addr, time.Second); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("baresip ctrl_tcp %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req := map[string]string{"command": cmd, "token": "t-" + cmd}
	if params != "" {
		req["params"] = params
	}
	msg, _ := json.Marshal(req)
	if _, err := fmt.Fprintf(c, "%d:%s,", len(msg), msg); err != nil {
		t.Fatalf("baresip %s: %v", cmd, err)
	}
	r := bufio.NewReader(c)
	for range 100 { // events may come before the response
		body, err := readNetstring(r)
		if err != nil {
			t.Fatalf("baresip %s: reading the response: %v", cmd, err)
		}
		var res struct {
			Response bool   `json:"response"`
			OK       bool   `json:"ok"`
			Data     string `json:"data"`
			Token    string `json:"token"`
		}
		if json.Unmarshal(body, &res) != nil || !res.Response || res.Token != "t-"+cmd {
			continue
		}
		if !res.OK {
			t.Fatalf("baresip %s refused: %s", cmd, res.Data)
		}
		return
	}
	t.Fatalf("baresip %s: no response", cmd)
}

// readNetstring reads one "LEN:BYTES," frame of at most 64 KiB.
func readNetstring(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(head[:len(head)-1])
	if err != nil || n < 0 || n > 64<<10 {
		return nil, fmt.Errorf("bad netstring length %q", head)
	}
	body := make([]byte, n+1)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	if body[n] != ',' {
		return nil, fmt.Errorf("netstring without its comma")
	}
	return body[:n], nil
}
