package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/softswitch/softswitch/b2bua/callstory"
	"github.com/softswitch/softswitch/b2bua/sipserver"
	"github.com/softswitch/softswitch/b2bua/siptrace"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/b2bua/trunk"
	"github.com/softswitch/softswitch/metrics"
)

// observability is what lets an operator look inside the running server:
// the log level, the SIP trace (log, live stream, HEP).
type observability struct {
	level   *slog.LevelVar
	tracer  *siptrace.Tracer
	stories *callstory.Recorder
	keeper  *callstory.Keeper // archives stories in the store
	media   *callMedia
	log     *slog.Logger
}

// startObservability hooks the SIP trace into srv (before it listens),
// starts the HEP export when configured, and keeps call stories in st.
func startObservability(ctx context.Context, cfg Config, level *slog.LevelVar, srv *sipserver.Server, st *store.Store, log *slog.Logger) (*observability, error) {
	o := &observability{level: level, tracer: siptrace.New(log), stories: callstory.NewRecorder(cfg.CallHistory), media: newCallMedia(), log: log}
	o.keeper = callstory.NewKeeper(o.stories, st, log)
	o.tracer.SetLogging(cfg.SIPTrace)
	o.tracer.Observe(o.stories.Observe)
	if cfg.HEP.Address != "" {
		e, err := siptrace.DialHEP(ctx, cfg.HEP, log)
		if err != nil {
			return nil, err
		}
		o.tracer.SetHEP(e)
		log.Info("exporting SIP messages as HEP v3", "address", cfg.HEP.Address, "id", cfg.HEP.ID)
	}
	srv.SetTracer(o.tracer)
	return o, nil
}

// startMetrics builds the metric set when cfg.Metrics is set (nil when
// not) and counts every SIP message into it.
func (o *observability) startMetrics(cfg Config, src metrics.Sources) (*metrics.Metrics, error) {
	if cfg.Metrics == "" {
		return nil, nil
	}
	m, err := metrics.New(src)
	if err != nil {
		return nil, err
	}
	o.tracer.Observe(func(msg siptrace.Message, s siptrace.Summary) { m.SIP(msg.In, s.Method, s.Status) })
	return m, nil
}

// trunkUp says which configured trunks are up.
func trunkUp(set *trunk.Set) map[string]bool {
	out := make(map[string]bool)
	for _, st := range set.Status() {
		up, err := set.Up(st.Name)
		out[st.Name] = err == nil && up
	}
	return out
}

// legacyHistoryFile is where versions before the call_history table
// saved `call show`'s history at shutdown.
const legacyHistoryFile = "call-history.json"

// importHistory moves a call history saved by an older version into the
// database, and removes its file once archived.
func (o *observability) importHistory(ctx context.Context, data string) {
	path := filepath.Join(data, legacyHistoryFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		o.log.Warn("call history file not imported", "error", err)
		return
	}
	n, err := o.stories.Load(f)
	_ = f.Close()
	if err == nil {
		err = o.keeper.Flush(ctx)
	}
	if err != nil {
		o.log.Warn("call history file not imported", "file", path, "error", err)
		return
	}
	if err := os.Remove(path); err != nil {
		o.log.Warn("call history file imported but not removed", "file", path, "error", err)
	}
	o.log.Info("call history file imported into the database", "file", path, "calls", n)
}

// runKeeper archives the call history until the returned stop is called
// (after the calls ended), which archives the last changes and waits.
func (o *observability) runKeeper(ctx context.Context) (stop func()) {
	kctx, cancel := context.WithCancel(context.WithoutCancel(ctx)) // a signal must not stop it before the drain
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.keeper.Run(kctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// close stops the HEP export after sending what is queued.
func (o *observability) close() {
	if e := o.tracer.SetHEP(nil); e != nil {
		_ = e.Close()
	}
}

func (o *observability) addCommands(cmds map[string]controlHandler, streams map[string]streamHandler) {
	cmds["log-level"] = o.logLevel
	cmds["sip-trace"] = o.sipTrace
	streams["trace"] = o.trace
}

// logLevel shows or sets the log level.
func (o *observability) logLevel(args []string) (string, error) {
	if len(args) > 1 {
		return "", errors.New("log-level: want at most one level")
	}
	if len(args) == 1 {
		lvl, err := parseLevel(args[0])
		if err != nil {
			return "", fmt.Errorf("log-level: %w", err)
		}
		if old := o.level.Level(); old != lvl {
			o.level.Set(lvl)
			o.log.Warn("log level changed", "from", old.String(), "to", lvl.String())
		}
	}
	return "log level " + strings.ToLower(o.level.Level().String()) + "\n", nil
}

// sipTrace shows or switches the debug log of every SIP message.
func (o *observability) sipTrace(args []string) (string, error) {
	if len(args) > 1 {
		return "", errors.New("sip-trace: want on or off")
	}
	if len(args) == 1 {
		switch args[0] {
		case "on", "off":
			o.tracer.SetLogging(args[0] == "on")
			o.log.Info("sip trace logging switched", "on", args[0] == "on")
		default:
			return "", fmt.Errorf("sip-trace: %q: want on or off", args[0])
		}
	}
	state := "off"
	if o.tracer.Logging() {
		state = "on"
	}
	text := "sip trace " + state + "\n"
	if state == "on" && o.level.Level() > slog.LevelDebug {
		text += "the log level is " + strings.ToLower(o.level.Level().String()) + ": the messages are logged at debug (softswitch log-level debug)\n"
	}
	return text, nil
}

// traceFlags parses `trace [--ext EXT] [--call ID] [--method M]`.
func traceFlags(args []string) (siptrace.Filter, int, error) {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f siptrace.Filter
	fs.StringVar(&f.Ext, "ext", "", "extension in From, To or the Request-URI")
	fs.StringVar(&f.CallID, "call", "", "Call-ID")
	fs.StringVar(&f.Method, "method", "", "request method (responses by their CSeq method)")
	count := fs.Int("count", 0, "stop after this many messages (0: until interrupted)")
	if err := fs.Parse(args); err != nil {
		return f, 0, usageError("trace: " + err.Error())
	}
	if fs.NArg() > 0 {
		return f, 0, usageError(fmt.Sprintf("trace: unexpected argument %q", fs.Arg(0)))
	}
	if *count < 0 {
		return f, 0, usageError("trace: --count must not be negative")
	}
	return f, *count, nil
}

// trace streams matching SIP messages to w until ctx ends.
func (o *observability) trace(ctx context.Context, args []string, w io.Writer) error {
	f, count, err := traceFlags(args)
	if err != nil {
		return err
	}
	sub := o.tracer.Subscribe(f)
	defer o.tracer.Unsubscribe(sub)
	o.log.Info("sip trace stream opened", "ext", f.Ext, "call", f.CallID, "method", f.Method)
	defer o.log.Info("sip trace stream closed")
	var dropped int64
	for n := 0; count == 0 || n < count; n++ {
		select {
		case <-ctx.Done():
			return nil
		case m := <-sub.C:
			if d := sub.Dropped(); d > dropped {
				if _, err := fmt.Fprintf(w, "(%d messages dropped: the trace could not keep up)\n", d-dropped); err != nil {
					return nil
				}
				dropped = d
			}
			if _, err := io.WriteString(w, m); err != nil {
				return nil // the client went away
			}
		}
	}
	return nil
}

// traceCmd implements `softswitch trace [--ext EXT | --call ID | --method M] [--count N]`.
func traceCmd(ctx context.Context, args []string, stdout io.Writer) error {
	c := newCommand(stdout, "trace", "", "Stream the running server's SIP messages that match every filter given, until interrupted or --count.")
	data := c.dataFlag()
	var f siptrace.Filter
	c.fs.StringVar(&f.Ext, "ext", "", "extension in From, To or the Request-URI")
	c.fs.StringVar(&f.CallID, "call", "", "Call-ID")
	c.fs.StringVar(&f.Method, "method", "", "request method (responses by their CSeq method)")
	count := c.fs.Int("count", 0, "stop after this many messages (0: until interrupted)")
	if _, err := c.parseN(args); err != nil {
		return err
	}
	if *count < 0 {
		return usageError("trace: --count must not be negative")
	}
	cmd := []string{"trace"}
	for _, kv := range []struct{ k, v string }{{"ext", f.Ext}, {"call", f.CallID}, {"method", f.Method}} {
		if kv.v == "" {
			continue
		}
		if strings.ContainsAny(kv.v, " \t\n") {
			return usageError("trace: --" + kv.k + " " + strconv.Quote(kv.v) + ": values cannot hold spaces")
		}
		cmd = append(cmd, "--"+kv.k, kv.v)
	}
	if *count > 0 {
		cmd = append(cmd, "--count", strconv.Itoa(*count))
	}
	if err := controlStream(ctx, *data, strings.Join(cmd, " "), stdout); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	return nil
}
