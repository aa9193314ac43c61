package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// kamailioCfg is the reference: a registrar with digest auth and a
// stateful proxy (tm, record-route, usrloc in memory). Every user has the
// same password (pv_www_authenticate with a fixed value), so no database
// is in the way; the softswitch looks each user's HA1 up in SQLite.
const kamailioCfg = `#!KAMAILIO
debug=1
log_stderror=yes
fork=yes
children=%d
listen=udp:127.0.0.1:%d
auto_aliases=no
alias="127.0.0.1:%d"
dns=no
rev_dns=no
udp_mtu=0

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "auth.so"

modparam("usrloc", "db_mode", 0)
modparam("auth", "secret", "bench-secret-nonce-key")

request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (has_totag()) {
		if (loose_route()) { t_relay(); exit; }
		if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
		sl_send_reply("404", "Not here"); exit;
	}
	if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
	if (is_method("OPTIONS")) { sl_send_reply("200", "OK"); exit; }
	t_check_trans();
	$var(pw) = "%s";
	if (is_method("REGISTER")) {
		if (!pv_www_authenticate("$td", "$var(pw)", "0")) { www_challenge("$td", "0"); exit; }
		consume_credentials();
		if (!save("location")) { sl_reply_error(); }
		exit;
	}
	if (is_method("INVITE")) {
		if (!pv_proxy_authenticate("$fd", "$var(pw)", "0")) { proxy_challenge("$fd", "0"); exit; }
		consume_credentials();
		record_route();
		if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
		if (!t_relay()) { sl_reply_error(); }
		exit;
	}
	sl_send_reply("405", "Method Not Allowed");
}
`

// kamailioPassword is the one password every Kamailio user has.
const kamailioPassword = "pw-kamailio-bench"

type kamailio struct {
	cmd    *exec.Cmd
	sip    string
	stderr *bytes.Buffer
	done   chan struct{}
}

// startKamailio runs kamailio in the foreground (-DD) on a free port with
// as many UDP workers as cores.
func startKamailio(ctx context.Context, dir string, children int) (*kamailio, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(kamailioCfg, children, port, port, kamailioPassword)), 0o644); err != nil {
		return nil, err
	}
	k := &kamailio{sip: "127.0.0.1:" + strconv.Itoa(port), stderr: &bytes.Buffer{}, done: make(chan struct{})}
	k.cmd = exec.Command("kamailio", "-f", cfg, "-DD", "-E", "-m", "256", "-M", "16", "-w", dir,
		"-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"))
	k.cmd.Stderr = &lockedBuffer{b: k.stderr}
	k.cmd.Stdout = k.cmd.Stderr
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers are stopped with it
	if err := k.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = k.cmd.Wait(); close(k.done) }()
	if err := waitSIP(ctx, k.sip, k.done, 20*time.Second); err != nil {
		k.stop()
		return nil, fmt.Errorf("kamailio: %w\n%s", err, k.stderr)
	}
	return k, nil
}

func (k *kamailio) tree() procTree { return procTree{root: k.cmd.Process.Pid} }

func (k *kamailio) stop() {
	_ = syscall.Kill(-k.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-k.cmd.Process.Pid, syscall.SIGKILL)
}
