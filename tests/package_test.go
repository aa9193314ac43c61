package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `make package` builds the Debian package; dpkg installs it on this
// machine (the tests run as root); the installed binary answers version
// and serve --help; systemd-analyze verifies the installed unit; the
// packaged configuration runs as the softswitch user and its log file
// survives a forced logrotate; an upgrade keeps the edited configuration
// and the database; dpkg -P removes every trace but the system user (which
// the test removes if it made it).
func TestDebianPackage(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"dpkg", "dpkg-deb", "dpkg-query"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: not a Debian system, the package cannot be installed here", tool)
		}
	}
	for _, tool := range []string{"make", "systemd-analyze", "logrotate"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: make deps-test installs it", tool)
		}
	}
	if _, err := os.Stat("../bin/nfpm"); err != nil {
		t.Fatalf("bin/nfpm missing (%v): make deps-test installs it (the tests have no network)", err)
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "softswitch").Output(); err == nil && strings.Contains(string(out), "installed") {
		t.Fatalf("a softswitch package is installed on this machine (%s): not replacing it; dpkg -P softswitch first", out)
	}
	_, userErr := user.Lookup("softswitch")
	hadUser := userErr == nil

	bin := filepath.Join(t.TempDir(), "softswitch") // one build for both packages
	deb := makePackage(t, bin, "")
	version := strings.TrimSpace(pkgCmd(t, time.Minute, "dpkg-deb", "-f", deb, "Version"))

	t.Cleanup(func() {
		if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "softswitch").Output(); err == nil && strings.Contains(string(out), "installed") {
			_ = dpkg("-P", "softswitch")
		}
		if !hadUser {
			_ = exec.Command("userdel", "softswitch").Run()
			_ = exec.Command("groupdel", "softswitch").Run()
		}
	})
	if out, err := dpkgOut("-i", deb); err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	t.Logf("installed softswitch %s (%s)", version, filepath.Base(deb))

	out := pkgCmd(t, 30*time.Second, "/usr/bin/softswitch", "version")
	if !strings.HasPrefix(out, "softswitch ") {
		t.Errorf("softswitch version: %q", out)
	}
	help := pkgCmd(t, 30*time.Second, "/usr/bin/softswitch", "serve", "--help")
	for _, flag := range []string{"-config", "-log-file", "-log-format", "-data"} {
		if !strings.Contains(help, flag) {
			t.Errorf("serve --help lacks %s:\n%s", flag, help)
		}
	}
	// systemd-analyze prints nothing for a unit it finds sound.
	if out, err := exec.Command("systemd-analyze", "verify", "/usr/lib/systemd/system/softswitch.service").CombinedOutput(); err != nil ||
		strings.Contains(string(out), "softswitch.service") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	conffiles := pkgCmd(t, 30*time.Second, "dpkg-query", "-W", "-f=${Conffiles}", "softswitch")
	for _, f := range []string{"/etc/softswitch/softswitch.yaml", "/etc/softswitch/dialplan.lua", "/etc/logrotate.d/softswitch"} {
		if !strings.Contains(conffiles, f) {
			t.Errorf("%s is not a conffile: %q", f, conffiles)
		}
	}
	u, err := user.Lookup("softswitch")
	if err != nil {
		t.Fatalf("postinst made no softswitch user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	checkOwned(t, "/var/lib/softswitch", uid, 0o750)
	checkOwned(t, "/var/log/softswitch", uid, 0o750)
	checkOwned(t, "/var/lib/softswitch/softswitch.db", uid, 0) // postinst: init as softswitch
	if fi, err := os.Stat("/etc/softswitch/softswitch.yaml"); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("packaged config: %v %v", fi, err)
	}

	runPackagedConfig(t, uint32(uid), uint32(gid))
	upgrade(t, makePackage(t, bin, version+"+1"), uint32(uid), uint32(gid))

	if out, err := dpkgOut("-P", "softswitch"); err != nil {
		t.Fatalf("dpkg -P: %v\n%s", err, out)
	}
	for _, p := range []string{"/usr/bin/softswitch", "/etc/softswitch", "/var/lib/softswitch", "/var/log/softswitch",
		"/usr/lib/systemd/system/softswitch.service", "/etc/logrotate.d/softswitch",
		"/etc/systemd/system/multi-user.target.wants/softswitch.service"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s left after dpkg -P", p)
		}
	}
}

// makePackage runs make package (version: its default when "") into a
// new directory, building the binary at bin, and returns the .deb.
func makePackage(t *testing.T, bin, version string) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-C", "..", "--no-print-directory", "package", "PKGDIR=" + dir, "BIN=" + bin}
	if version != "" {
		args = append(args, "PKG_VERSION="+version)
	}
	pkgCmd(t, 5*time.Minute, "make", args...)
	debs, _ := filepath.Glob(filepath.Join(dir, "softswitch_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("make package made %v", debs)
	}
	return debs[0]
}

// upgrade installs deb, a later version, over the installed one: the
// edited configuration, the database and its extension are kept.
func upgrade(t *testing.T, deb string, uid, gid uint32) {
	t.Helper()
	const conf = "/etc/softswitch/softswitch.yaml"
	orig, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	edited := append(orig, "# edited by the operator\n"...)
	if err := os.WriteFile(conf, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	next := strings.TrimSpace(pkgCmd(t, time.Minute, "dpkg-deb", "-f", deb, "Version"))
	if out, err := dpkgOut("-i", deb); err != nil {
		t.Fatalf("dpkg -i (upgrade to %s): %v\n%s", next, err, out)
	}
	if got := pkgCmd(t, 30*time.Second, "dpkg-query", "-W", "-f=${Version}", "softswitch"); got != next {
		t.Errorf("after the upgrade: version %q, want %q", got, next)
	}
	if b, _ := os.ReadFile(conf); !bytes.Equal(b, edited) {
		t.Errorf("the upgrade replaced the edited configuration")
	}
	users := exec.Command("/usr/bin/softswitch", "user", "list", "--data", "/var/lib/softswitch")
	users.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	if out, err := users.Output(); err != nil || !strings.Contains(string(out), "1001") {
		t.Errorf("after the upgrade, user list: %v\n%s", err, out)
	}
}

// runPackagedConfig adds an extension as the softswitch user, starts the
// installed binary on the packaged configuration as that user (listeners
// moved to loopback ports the OS chooses), lists the extension, rotates the log with
// the packaged logrotate file and SIGUSR1, then stops it with SIGTERM.
func runPackagedConfig(t *testing.T, uid, gid uint32) {
	t.Helper()
	asUser := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// Before the first start: the database postinst made takes users.
	add := exec.CommandContext(ctx, "/usr/bin/softswitch", "user", "add", "1001", "--password-stdin", "--data", "/var/lib/softswitch")
	add.SysProcAttr, add.Stdin = asUser, strings.NewReader("pw-1001-secret\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add as softswitch: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, "/usr/bin/softswitch", "serve", "--config", "/etc/softswitch/softswitch.yaml",
		"--sip", "127.0.0.1:0", "--sip-tls", "", "--https", "", "--metrics", "", "--webrtc-port", "0", "--media-ip", "127.0.0.1")
	cmd.SysProcAttr, cmd.Dir = asUser, "/"
	p := startBackground(t, cmd)
	const logPath = "/var/log/softswitch/softswitch.log"
	p.waitFileText(t, logPath, `msg="softswitch running"`)

	users := exec.CommandContext(ctx, "/usr/bin/softswitch", "user", "list", "--data", "/var/lib/softswitch")
	users.SysProcAttr = asUser
	if out, err := users.Output(); err != nil || !strings.Contains(string(out), "1001") {
		t.Fatalf("user list as softswitch: %v\n%s", err, out)
	}

	// The packaged logrotate file, forced (its postrotate's systemctl has
	// no systemd here: the test sends the SIGUSR1 it would).
	state := filepath.Join(t.TempDir(), "logrotate.state")
	if out, err := exec.CommandContext(ctx, "logrotate", "-f", "-s", state, "/etc/logrotate.d/softswitch").CombinedOutput(); err != nil {
		t.Fatalf("logrotate: %v\n%s", err, out)
	}
	rotated, err := os.ReadFile(logPath + ".1")
	if err != nil || !bytes.Contains(rotated, []byte(`msg="softswitch running"`)) {
		t.Fatalf("logrotate did not move the log to %s.1: %v", logPath, err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	p.waitFileText(t, logPath, `msg="log file reopened"`)
	if err := p.stop(syscall.SIGTERM, 45*time.Second); err != nil {
		t.Fatalf("serve on the packaged config, SIGTERM: %v\n%s", err, p.stderr.String())
	}
	if b, _ := os.ReadFile(logPath); !bytes.Contains(b, []byte(`msg=stopped`)) {
		t.Errorf("no 'stopped' in the new log file:\n%s", b)
	}
	if p.stderr.Len() != 0 || p.stdout.Len() != 0 {
		t.Errorf("serve with log_file wrote stdout %q, stderr %q", p.stdout.String(), p.stderr.String())
	}
	checkOwned(t, "/var/lib/softswitch/softswitch.db", int(uid), 0)
}

// checkOwned: path belongs to uid and, when perm is not 0, has that mode.
func checkOwned(t *testing.T, path string, uid int, perm os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != uid || (perm != 0 && fi.Mode().Perm() != perm) {
		t.Errorf("%s: mode %v, owner %v, want uid %d mode %v", path, fi.Mode(), fi.Sys(), uid, perm)
	}
}

// pkgCmd runs a command that must succeed within d and returns its stdout.
func pkgCmd(t *testing.T, d time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s%s", name, args, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// dpkgOut runs dpkg, waiting (bounded) for the dpkg lock another
// installation on this machine may hold.
func dpkgOut(args ...string) (string, error) {
	var out []byte
	var err error
	for try := 0; try < 60; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out, err = exec.CommandContext(ctx, "dpkg", args...).CombinedOutput()
		cancel()
		if err == nil || !bytes.Contains(out, []byte("lock")) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if err != nil {
		return string(out), fmt.Errorf("dpkg %v: %w", args, err)
	}
	return string(out), nil
}

func dpkg(args ...string) error {
	_, err := dpkgOut(args...)
	return err
}

// make install honours PREFIX and DESTDIR: the unit runs the installed
// binary, and a second install keeps the operator's configuration.
func TestMakeInstall(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	args := []string{"-C", "..", "--no-print-directory", "install", "DESTDIR=" + root, "PREFIX=/opt/ss", "BIN=" + filepath.Join(dir, "softswitch")}
	pkgCmd(t, 5*time.Minute, "make", args...)
	unit, err := os.ReadFile(filepath.Join(root, "opt/ss/lib/systemd/system/softswitch.service"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "\nExecStart=/opt/ss/bin/softswitch serve --config /etc/softswitch/softswitch.yaml\n") {
		t.Errorf("unit's ExecStart:\n%s", unit)
	}
	out := pkgCmd(t, 30*time.Second, filepath.Join(root, "opt/ss/bin/softswitch"), "version")
	if !strings.HasPrefix(out, "softswitch ") {
		t.Errorf("installed binary: %q", out)
	}
	conf := filepath.Join(root, "etc/softswitch/softswitch.yaml")
	if err := os.WriteFile(conf, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pkgCmd(t, 5*time.Minute, "make", args...)
	if b, _ := os.ReadFile(conf); string(b) != "# mine\n" {
		t.Errorf("a second make install replaced the configuration: %q", b)
	}
	for _, f := range []string{"etc/softswitch/dialplan.lua", "etc/logrotate.d/softswitch", "opt/ss/share/doc/softswitch/README.md",
		"opt/ss/share/doc/softswitch/examples/production.yaml"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
}
