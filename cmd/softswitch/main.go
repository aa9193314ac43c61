// Command softswitch is a B2BUA softswitch: registrar, Lua dialplan and a
// media core bridging browsers (WebRTC) and SIP phones and trunks.
//
//	softswitch serve [--config FILE] [--data DIR] [--sip ADDR] [--sip-tls ADDR]
//	                 [--https ADDR] [--ws ADDR] [--rtp-ports LO-HI] [--media-ip IP]
//	                 [--dialplan FILE] [--log-level debug|info|warn|error]
//	                 [--log-format text|json] [--log-file FILE]
//	softswitch init [--data DIR]
//	softswitch user add EXT [--password PW | --password-stdin] [--name NAME] [--data DIR]
//	softswitch user passwd EXT [--password PW | --password-stdin] [--data DIR]
//	softswitch user del EXT [--data DIR]
//	softswitch user list [--data DIR]
//	softswitch cdr list [--since T] [--until T] [--ext EXT] [--cause C] [--last N] [--open] [--format table|csv|json] [--data DIR]
//	softswitch voicemail list EXT [--data DIR]
//	softswitch dialplan check FILE
//	softswitch reload [--data DIR]
//	softswitch trunk status [--data DIR]
//	softswitch trace [--ext EXT] [--call ID] [--method M] [--count N] [--data DIR]
//	softswitch sip-trace [on|off] [--data DIR]
//	softswitch log-level [LEVEL] [--data DIR]
//	softswitch calls [--json] [--data DIR]
//	softswitch calls hangup ID [--cause CAUSE] [--data DIR]
//	softswitch call show ID [--data DIR]
//	softswitch conf list|show ROOM [--json] [--data DIR]
//	softswitch conf kick|mute|unmute ROOM MEMBER [--data DIR]
//	softswitch version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/softswitch/softswitch/dialplan"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: softswitch COMMAND [ARGS] [flags]   (softswitch COMMAND --help: its flags)

  serve [--config FILE] [--data DIR] [--sip ADDR] [--sip-tls ADDR] [--https ADDR] [--ws ADDR]
        [--rtp-ports LO-HI] [--media-ip IP] [--webrtc-port N] [--dialplan FILE]
        [--log-level debug|info|warn|error] [--log-format text|json] [--log-file FILE]
        [--metrics ADDR] [--pprof ADDR]
  init [--data DIR]                         create the data directory and database
  user add EXT [--password-stdin] [--name "Display Name"] [--data DIR]
  user passwd EXT [--password-stdin] [--data DIR]
  user del EXT [--data DIR]
  user list [--data DIR]
  cdr list [--since T] [--until T] [--ext EXT] [--cause C] [--last N] [--open]
           [--format table|csv|json] [--data DIR]
  voicemail list EXT [--data DIR]
  dialplan check FILE
  reload [--data DIR]                       recompile the dialplan, apply the config file's trunks now
  trunk status [--data DIR]
  trace [--ext EXT] [--call ID] [--method M] [--count N] [--data DIR]
  sip-trace [on|off] [--data DIR]           log every SIP message at debug
  log-level [debug|info|warn|error] [--data DIR]
  calls [--json] [--data DIR]
  calls hangup ID [--cause CAUSE] [--data DIR]
  call show ID [--data DIR]                 ladder, SDPs and verdicts of a recent call
  conf list [--json] [--data DIR]           conference rooms in use
  conf show ROOM [--json] [--data DIR]      a room's members: talking, codec, loss
  conf kick|mute|unmute ROOM MEMBER [--data DIR]
  version

Exit status: 0 done, 1 failed, 2 bad command line.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit status: 0, 1 for
// a failure, 2 for a usage error. Errors are printed as one line on stderr;
// -h/--help prints to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "init":
		err = initCmd(ctx, args[1:], stdout)
	case "user":
		err = userCmd(ctx, args[1:], stdout)
	case "cdr":
		err = cdrCmd(ctx, args[1:], stdout)
	case "voicemail":
		err = voicemailCmd(ctx, args[1:], stdout)
	case "dialplan":
		err = dialplanCmd(args[1:], stdout)
	case "reload":
		err = controlCmd(stdout, "reload", "recompile the dialplan and apply the configuration file's trunks now", args[1:])
	case "trace":
		err = traceCmd(ctx, args[1:], stdout)
	case "calls":
		err = callsCmd(args[1:], stdout)
	case "call":
		err = callCmd(args[1:], stdout)
	case "conf":
		err = confCmd(args[1:], stdout)
	case "log-level":
		err = argCmd(stdout, "log-level", "[debug|info|warn|error]", "show or set the running server's log level", 1, args[1:])
	case "sip-trace":
		err = argCmd(stdout, "sip-trace", "[on|off]", "show or switch the logging of every SIP message at debug", 1, args[1:])
	case "trunk":
		err = trunkCmd(args[1:], stdout)
	case "version", "--version", "-version":
		err = versionCmd(args[1:], stdout)
	case "help", "--help", "-h", "-help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "softswitch: unknown command %q (softswitch --help lists them)\n", args[0])
		return 2
	}
	switch {
	case err == nil || errors.Is(err, errHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintln(stderr, "softswitch:", err)
		return 2
	}
	fmt.Fprintln(stderr, "softswitch:", err)
	return 1
}

// trunkCmd implements `softswitch trunk status`.
func trunkCmd(args []string, stdout io.Writer) error {
	_, rest, err := subcommand(stdout, "trunk", map[string]string{"status": "each trunk's registration and reachability"},
		[]string{"status"}, args)
	if err != nil {
		return err
	}
	return controlCmd(stdout, "trunk status", "show each trunk's registration and reachability", rest)
}

// dialplanCmd implements `softswitch dialplan check FILE`.
func dialplanCmd(args []string, stdout io.Writer) error {
	_, rest, err := subcommand(stdout, "dialplan", map[string]string{"check": "compile a Lua dialplan and report its first error"},
		[]string{"check"}, args)
	if err != nil {
		return err
	}
	c := newCommand(stdout, "dialplan check", "FILE", "Compile the Lua dialplan FILE and report its first error; exit 1 when it has one.")
	pos, err := c.parseN(rest, "FILE")
	if err != nil {
		return err
	}
	if err := dialplan.Check(pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", pos[0])
	return nil
}
