package dialplan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// errNoOnCall reports a script whose top level did not define on_call.
var errNoOnCall = errors.New("no global function on_call")

// run is one execution of a compiled script in its own Lua state: for a
// call (sess != nil), or without a call to validate a freshly compiled
// script (its top level runs, on_call must then exist).
type run struct {
	ctx     context.Context // the call's context, plus budget and max duration
	cancel  context.CancelCauseFunc
	log     *slog.Logger  // carries call_id
	file    string        // the script's name in error positions
	budget  time.Duration // CPU budget
	maxDur  time.Duration // max duration
	sess    Session
	wd      *watchdog
	errLine int // innermost script line of the last Lua error, set by onError
	// limitMsg says which memory limit was exceeded (with ErrMemory).
	limitMsg string
	// logBytes is how much print and log.* have written.
	logBytes int
	clock    func() time.Time  // os.time and os.date read it; nil: time.Now
	started  time.Time         // os.clock counts from it
	vars     map[string]string // what call:set stored, for call:get
	patterns *patternCache     // the library's compiled patterns
}

// goneError is the cause of a run stopped because a call API reported that
// the call is gone.
type goneError struct{ err error }

func (e *goneError) Error() string { return "call ended: " + e.err.Error() }
func (e *goneError) Unwrap() error { return e.err }

// handler is what a run does after the script's top level has run: call
// on_call, on_message or another entry point defined by the script.
type handler func(r *run, L *lua.LState, msgh *lua.LFunction) error

// onCall calls on_call(call), which must exist; without a session (a
// freshly compiled script being validated) it only checks that it does.
func onCall(lib *library) handler {
	return func(r *run, L *lua.LState, msgh *lua.LFunction) error {
		fn, ok := L.GetGlobal("on_call").(*lua.LFunction)
		if !ok {
			return errNoOnCall
		}
		if r.sess == nil {
			return nil
		}
		L.Push(fn)
		L.Push(lib.call.newCall(L, r))
		return L.PCall(1, 0, msgh)
	}
}

// optional calls the global function name with the value arg builds, when
// the script defines it; defined reports whether it did. ret, when not
// nil, receives the function's first result.
func optional(name string, defined *bool, arg func(L *lua.LState) lua.LValue, ret func(lua.LValue)) handler {
	return func(r *run, L *lua.LState, msgh *lua.LFunction) error {
		fn, ok := L.GetGlobal(name).(*lua.LFunction)
		if !ok {
			return nil
		}
		*defined = true
		L.Push(fn)
		L.Push(arg(L))
		if ret == nil {
			return L.PCall(1, 0, msgh)
		}
		if err := L.PCall(1, 1, msgh); err != nil {
			return err
		}
		ret(L.Get(-1))
		L.Pop(1)
		return nil
	}
}

// execute runs proto in a fresh sandboxed state under cfg's limits, then
// then (e.g. on_call(call) when sess is not nil).
func execute(ctx context.Context, lib *library, proto *lua.FunctionProto, cfg Config, sess Session, log *slog.Logger, then handler) error {
	tctx, stop := context.WithTimeoutCause(ctx, cfg.MaxDuration, ErrMaxDuration)
	defer stop()
	rctx, cancel := context.WithCancelCause(tctx)
	defer cancel(nil)
	r := &run{ctx: rctx, cancel: cancel, log: log, file: cfg.Path, budget: cfg.CPUBudget, maxDur: cfg.MaxDuration, sess: sess,
		clock: cfg.Clock, started: time.Now(), patterns: &lib.patterns}
	L, err := lib.newState()
	if err != nil {
		return err
	}
	L.SetContext(newMeter(rctx, L, r, cfg.MaxMemory))
	r.wd = startWatchdog(cfg.CPUBudget, cancel)
	err = r.exec(L, proto, then)
	r.wd.close()
	// Clean: the script returned without an error and nothing stopped
	// it, or the call ended (its context, or a call API reporting it gone)
	// and that alone stopped it (what ends most
	// bridged calls: gopher-lua raises the context's error, and the
	// script's protected call unwinds as from any error). A run stopped
	// by a limit (memory, CPU, duration) or that failed otherwise leaves
	// its state to the collector.
	var gone *goneError
	clean := err == nil && rctx.Err() == nil ||
		ctx.Err() != nil && context.Cause(rctx) == context.Cause(ctx) ||
		errors.As(context.Cause(rctx), &gone)
	lib.release(L, clean)
	return r.classify(ctx, err)
}

// exec runs the chunk, then then. It never panics.
func (r *run) exec(L *lua.LState, proto *lua.FunctionProto, then handler) (err error) {
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("internal error: %v", rec)
		}
	}()
	msgh := L.NewFunction(r.onError)
	L.Push(L.NewFunctionFromProto(proto))
	if err := L.PCall(0, 0, msgh); err != nil {
		return err
	}
	return then(r, L, msgh)
}

// onError is the message handler of the protected calls: it notes the
// innermost line of the script on the stack when an error is raised, for
// errors whose message carries no position (error(x, 0), error(table),
// panics in builtins).
func (r *run) onError(L *lua.LState) int {
	r.errLine = 0
	for level := 0; level <= callStackSize; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			continue
		}
		if dbg.Source == r.file && dbg.CurrentLine > 0 {
			r.errLine = dbg.CurrentLine
			break
		}
	}
	L.Push(L.Get(1))
	return 1
}

// callStackOverflow is how gopher-lua's growing call stack fails when a
// call nests deeper than callStackSize: a Go panic (its "stack overflow"
// check never fires for that stack), which PCall turns into an error
// without a position and without running the message handler, so
// onError cannot note the line. The state's Lua traceback, taken before
// the stack unwinds (Options.IncludeGoStackTrace), still has it.
const callStackOverflow = "lua callstack overflow"

// tracebackLine returns the line of the innermost frame of file in a
// gopher-lua traceback ("\tfile:12: in function 'f'"), or 0.
func tracebackLine(trace, file string) int {
	for l := range strings.Lines(trace) {
		if line, _ := splitPosition(strings.TrimSpace(l), file); line > 0 {
			return line
		}
	}
	return 0
}

// classify turns the outcome of exec into Run's error: nil, the call's
// context error when the call is gone, or a *ScriptError.
func (r *run) classify(parent context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, errNoOnCall) {
		kind := ErrScript
		if r.sess == nil {
			kind = ErrCompile
		}
		return &ScriptError{Kind: kind, File: r.file, Msg: err.Error()}
	}
	if perr := parent.Err(); perr != nil {
		return fmt.Errorf("dialplan: run: %w", perr)
	}
	cause := context.Cause(r.ctx)
	var gone *goneError
	if errors.As(cause, &gone) {
		return fmt.Errorf("dialplan: run: %w", gone)
	}
	msg := err.Error()
	var aerr *lua.ApiError
	if errors.As(err, &aerr) {
		msg = aerr.Object.String()
	}
	line, text := splitPosition(msg, r.file)
	if line == 0 {
		line = r.errLine
	}
	if aerr != nil && aerr.Type == lua.ApiErrorPanic && strings.Contains(text, callStackOverflow) {
		text = fmt.Sprintf("stack overflow (calls nested more than %d deep)", callStackSize)
		if line == 0 {
			line = tracebackLine(aerr.StackTrace, r.file)
		}
	}
	kind := ErrScript
	switch {
	case errors.Is(cause, ErrBudget):
		kind, text = ErrBudget, fmt.Sprintf("lua ran for more than %v without waiting on the call", r.budget)
	case errors.Is(cause, ErrMaxDuration):
		kind, text = ErrMaxDuration, fmt.Sprintf("script still running after %v", r.maxDur)
	case errors.Is(cause, ErrMemory):
		kind, text = ErrMemory, r.limitMsg
	}
	return &ScriptError{Kind: kind, File: r.file, Line: line, Msg: text}
}
