package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// cliCommands is every command and subcommand with a flag its --help must
// list.
var cliCommands = []struct {
	args []string
	flag string
}{
	{[]string{"serve"}, "-webrtc-port"},
	{[]string{"init"}, "-data"},
	{[]string{"user", "add"}, "-password-stdin"},
	{[]string{"user", "passwd"}, "-password-stdin"},
	{[]string{"user", "del"}, "-data"},
	{[]string{"user", "list"}, "-data"},
	{[]string{"cdr", "list"}, "-format"},
	{[]string{"voicemail", "list"}, "-data"},
	{[]string{"dialplan", "check"}, "FILE"},
	{[]string{"reload"}, "-data"},
	{[]string{"trunk", "status"}, "-data"},
	{[]string{"trace"}, "-method"},
	{[]string{"sip-trace"}, "-data"},
	{[]string{"log-level"}, "-data"},
	{[]string{"calls"}, "-json"},
	{[]string{"calls", "hangup"}, "-cause"},
	{[]string{"call", "show"}, "-data"},
	{[]string{"conf", "list"}, "-json"},
	{[]string{"conf", "show"}, "-json"},
	{[]string{"conf", "kick"}, "MEMBER"},
	{[]string{"conf", "mute"}, "-data"},
	{[]string{"conf", "unmute"}, "-data"},
	{[]string{"version"}, "usage: softswitch version"},
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// Every command: -h and --help print its usage and flags to stdout, exit
// 0, before or after an argument; an unknown flag is one line naming it on
// stderr, exit 2.
func TestEveryCommandHelpAndBadFlag(t *testing.T) {
	for _, c := range cliCommands {
		name := strings.Join(c.args, " ")
		for _, h := range []string{"-h", "--help"} {
			code, out, errs := runCLI(append(append([]string{}, c.args...), "x", h)...)
			if name == "version" || name == "serve" || name == "init" || name == "user list" || name == "reload" ||
				name == "trunk status" || name == "trace" || name == "calls" || name == "conf list" {
				code, out, errs = runCLI(append(append([]string{}, c.args...), h)...)
			}
			if code != 0 || errs != "" || !strings.HasPrefix(out, "usage: softswitch "+name) || !strings.Contains(out, c.flag) {
				t.Errorf("%s %s: exit %d, stderr %q, stdout:\n%s", name, h, code, errs, out)
			}
		}
		code, out, errs := runCLI(append(append([]string{}, c.args...), "--frobnicate")...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "-frobnicate") {
			t.Errorf("%s --frobnicate: exit %d, stdout %q, stderr %q", name, code, out, errs)
		}
	}
}

// Groups list their subcommands on --help; an unknown or missing one is
// named, exit 2.
func TestSubcommandErrors(t *testing.T) {
	for _, g := range []string{"user", "cdr", "voicemail", "dialplan", "trunk", "call", "conf"} {
		if code, out, _ := runCLI(g, "--help"); code != 0 || !strings.Contains(out, "subcommands:") {
			t.Errorf("%s --help: %d %q", g, code, out)
		}
		if code, _, errs := runCLI(g, "frob"); code != 2 || !strings.Contains(errs, `unknown subcommand "frob"`) {
			t.Errorf("%s frob: %d %q", g, code, errs)
		}
		if code, _, errs := runCLI(g); code != 2 || !strings.Contains(errs, "missing subcommand") {
			t.Errorf("%s: %d %q", g, code, errs)
		}
	}
	if code, _, errs := runCLI("frob"); code != 2 || !strings.Contains(errs, `unknown command "frob"`) {
		t.Errorf("frob: %d %q", code, errs)
	}
	if code, out, _ := runCLI("--help"); code != 0 || !strings.Contains(out, "cdr list") {
		t.Errorf("--help: %d %q", code, out)
	}
}

// Bad values and arguments are usage errors (2) naming the problem.
func TestUsageErrors(t *testing.T) {
	data := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"cdr", "list", "--last", "-3"}, "--last -3"},
		{[]string{"cdr", "list", "--last", "x"}, `invalid value "x" for flag -last`},
		{[]string{"cdr", "list", "--format", "xml"}, `--format "xml"`},
		{[]string{"cdr", "list", "--since", "yesterday"}, `"yesterday"`},
		{[]string{"user", "add"}, "missing EXT"},
		{[]string{"user", "add", "1000", "1001"}, `unexpected argument "1001"`},
		{[]string{"user", "add", "--password", "pw", "--password-stdin", "1000"}, "exclude each other"},
		{[]string{"dialplan", "check"}, "missing FILE"},
		{[]string{"calls", "hangup", "abc", "--cause", "nope"}, `--cause "nope"`},
		{[]string{"log-level", "debug", "info"}, `unexpected argument "info"`},
		{[]string{"serve", "--rtp-ports", "5-4"}, "rtp_ports"},
		{[]string{"serve", "stray"}, `unexpected argument "stray"`},
	} {
		code, _, errs := runCLI(append(tt.args, "--data", data)...)
		if tt.args[0] == "serve" || tt.args[0] == "dialplan" {
			code, _, errs = runCLI(tt.args...)
		}
		wantCode := 2
		if tt.args[0] == "serve" && tt.want == "rtp_ports" {
			wantCode = 1 // a bad configuration value: a failure, like one in the file
		}
		if code != wantCode || !strings.Contains(errs, tt.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errs, wantCode, tt.want)
		}
	}
}

// Flags go before or after the positionals; "--" ends the flags.
func TestFlagsAnywhere(t *testing.T) {
	data := t.TempDir()
	if code, _, errs := runCLI("init", "--data", data); code != 0 {
		t.Fatal(errs)
	}
	for _, args := range [][]string{
		{"user", "add", "--password", "pw-1", "2001", "--data", data},
		{"user", "add", "--data", data, "2002", "--password", "pw-2"},
		{"user", "add", "--data=" + data, "--password=pw-3", "--", "2003"},
	} {
		if code, out, errs := runCLI(args...); code != 0 || !strings.HasPrefix(out, "added ") {
			t.Errorf("%v: %d %q %q", args, code, out, errs)
		}
	}
	_, out, _ := runCLI("user", "list", "--data", data)
	for _, ext := range []string{"2001", "2002", "2003"} {
		if !strings.Contains(out, ext) {
			t.Errorf("user list lacks %s:\n%s", ext, out)
		}
	}
}

// conf: a room name with path characters and missing arguments are usage
// errors (exit 2); without a server the command says so (exit 1).
func TestConfCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"conf", "show", "../etc"}, 2, `room "../etc"`},
		{[]string{"conf", "kick", "3000"}, 2, "missing MEMBER"},
		{[]string{"conf", "mute", "a/b", "1"}, 2, `room "a/b"`},
		{[]string{"conf", "list", "--data", t.TempDir()}, 1, "no softswitch running"},
	} {
		code, _, errs := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}
