package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// page is a headless Chromium tab (tests/browser/page.mjs, playwright-core
// driving Debian's chromium) that evaluates JavaScript for the test.
type page struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan string
	nextID int
	mu     sync.Mutex
	logs   strings.Builder
}

// openPage starts Chromium on url and waits until the page has loaded.
func openPage(t *testing.T, url string) *page {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("chromium not found: run `make deps` (Debian package chromium)")
	}
	driver, _ := filepath.Abs("browser/page.mjs")
	if _, err := os.Stat(filepath.Join(filepath.Dir(driver), "node_modules", "playwright-core")); err != nil {
		t.Fatal("playwright-core not installed: run `make deps` (npm ci in tests/browser)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	p := &page{t: t, lines: make(chan string, 16)}
	p.cmd = exec.CommandContext(ctx, "node", driver, url)
	p.cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var err error
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.logs}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		p.in.Close()
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
		cancel()
		if t.Failed() {
			p.mu.Lock()
			t.Logf("browser console:\n%s", p.logs.String())
			p.mu.Unlock()
		}
	})
	p.reply(0, 60*time.Second) // "ready": the page loaded
	return p
}

type pageReply struct {
	ID    int             `json:"id"`
	OK    bool            `json:"ok"`
	Value json.RawMessage `json:"value"`
	Error string          `json:"error"`
}

func (p *page) reply(id int, d time.Duration) json.RawMessage {
	p.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.mu.Lock()
				defer p.mu.Unlock()
				p.t.Fatalf("browser driver exited:\n%s", p.logs.String())
			}
			var r pageReply
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				p.t.Fatalf("bad driver output %q: %v", line, err)
			}
			if r.ID != id {
				continue
			}
			if !r.OK {
				p.t.Fatalf("page: %s", r.Error)
			}
			return r.Value
		case <-deadline:
			p.t.Fatalf("page did not answer within %v", d)
		}
	}
}

// eval evaluates js in the page (promises are awaited) and decodes the result into v.
func (p *page) eval(js string, v any) {
	p.t.Helper()
	p.nextID++
	id := p.nextID
	b, _ := json.Marshal(map[string]any{"id": id, "js": js})
	if _, err := fmt.Fprintf(p.in, "%s\n", b); err != nil {
		p.t.Fatal(err)
	}
	raw := p.reply(id, 30*time.Second)
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			p.t.Fatalf("decoding %s: %v", raw, err)
		}
	}
}

// waitTrue polls a boolean expression.
func (p *page) waitTrue(js string, d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var ok bool
		p.eval(js, &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var st, er string
			p.eval("phone.status()", &st)
			p.eval("phone.error()", &er)
			p.t.Fatalf("waited %v for %s; status %q, error %q", d, js, st, er)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A browser registers over WSS from the page the softswitch serves; a
// wrong password is shown in words.
func TestBrowserRegistersOverWSS(t *testing.T) {
	s := startServer(t, "")
	p := openPage(t, "https://"+s.addr("https")+"/")
	p.eval(`phone.login("1001", "not-the-password")`, nil)
	p.waitTrue(`phone.error().includes("Wrong extension or password")`, 10*time.Second)
	p.eval(fmt.Sprintf(`phone.login("1001", %q)`, testUsers["1001"]), nil)
	p.waitTrue(`phone.registered()`, 10*time.Second)
	if reg := s.registrations("1001"); !strings.Contains(reg, "via wss") {
		t.Fatalf("browser registration not listed: %s", reg)
	}
}
