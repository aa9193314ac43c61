// Command softswitch is a B2BUA softswitch: registrar, Lua dialplan and a
// media core bridging browsers (WebRTC) and SIP phones and trunks.
//
//	softswitch serve [--config FILE] [--data DIR] [--sip ADDR] [--sip-tls ADDR]
//	                 [--https ADDR] [--ws ADDR] [--rtp-ports LO-HI] [--media-ip IP]
//	                 [--dialplan FILE] [--log-level debug|info|warn|error]
//	softswitch user add EXT [--password PW] [--name NAME] [--data DIR]
//	softswitch user passwd EXT [--password PW] [--data DIR]
//	softswitch user del EXT [--data DIR]
//	softswitch user list [--data DIR]
//	softswitch cdr list [--last N] [--open] [--data DIR]
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
//	softswitch version
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/softswitch/softswitch/dialplan"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage:
  softswitch serve [--config FILE] [--data DIR] [--sip ADDR] [--sip-tls ADDR]
                   [--https ADDR] [--ws ADDR] [--rtp-ports LO-HI] [--media-ip IP]
                   [--dialplan FILE] [--log-level debug|info|warn|error]
  softswitch user add EXT [--password PW] [--name "Display Name"] [--data DIR]
  softswitch user passwd EXT [--password PW] [--data DIR]
  softswitch user del EXT [--data DIR]
  softswitch user list [--data DIR]
  softswitch cdr list [--last N] [--open] [--data DIR]
  softswitch voicemail list EXT [--data DIR]
  softswitch dialplan check FILE
  softswitch reload [--data DIR]          (recompile the dialplan, apply the configuration file's trunks now)
  softswitch trunk status [--data DIR]
  softswitch trace [--ext EXT] [--call ID] [--method M] [--count N] [--data DIR]
  softswitch sip-trace [on|off] [--data DIR]   (log every SIP message at debug)
  softswitch log-level [debug|info|warn|error] [--data DIR]
  softswitch calls [--json] [--data DIR]
  softswitch calls hangup ID [--cause CAUSE] [--data DIR]
  softswitch call show ID [--data DIR]    (ladder, SDPs and verdicts of a recent call)
  softswitch version
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit status. Errors are
// printed as one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "user":
		err = userCmd(ctx, args[1:], stdout)
	case "cdr":
		err = cdrCmd(ctx, args[1:], stdout)
	case "voicemail":
		err = voicemailCmd(ctx, args[1:], stdout)
	case "dialplan":
		err = dialplanCmd(args[1:], stdout)
	case "reload":
		err = controlCmd("reload", "reload", args[1:], stdout)
	case "trace":
		err = traceCmd(ctx, args[1:], stdout)
	case "calls":
		err = callsCmd(args[1:], stdout)
	case "call":
		err = callCmd(args[1:], stdout)
	case "log-level", "sip-trace":
		err = argCmd(args[0], args[1:], stdout)
	case "trunk":
		if len(args) < 2 || args[1] != "status" {
			err = usageError("trunk: want status")
			break
		}
		err = controlCmd("trunk status", "trunk status", args[2:], stdout)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "softswitch", version)
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "softswitch: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "softswitch:", err)
		if _, ok := err.(usageError); ok {
			return 2
		}
		return 1
	}
	return 0
}

// dialplanCmd implements `softswitch dialplan check FILE`.
func dialplanCmd(args []string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "check" {
		return usageError("dialplan: want check FILE")
	}
	if err := dialplan.Check(args[1]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", args[1])
	return nil
}

type usageError string

func (e usageError) Error() string { return string(e) }
