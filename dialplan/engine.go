package dialplan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// Engine runs the dialplan script for calls. It compiles the script once,
// recompiles it when the file changes, and runs each call in a fresh
// sandboxed Lua state. It is safe for concurrent use.
type Engine struct {
	cfg Config
	log *slog.Logger
	lib *library

	mu      sync.Mutex
	prog    program   // last good version
	seen    fileStamp // version of the file last compiled, good or bad
	gen     uint64    // generation of the last compile started
	statErr bool      // the last stat failed (logged once)
}

// program is a compiled, validated version of the script.
type program struct {
	proto *lua.FunctionProto
	gen   uint64 // generation of the compile that made it
}

// fileStamp identifies a version of the script file. A rewrite that keeps
// both the modification time (to the nanosecond) and the size goes
// unnoticed.
type fileStamp struct {
	mod  int64 // modification time, Unix nanoseconds
	size int64
}

func stat(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, fmt.Errorf("dialplan: stat script: %w", err)
	}
	return fileStamp{mod: fi.ModTime().UnixNano(), size: fi.Size()}, nil
}

// New compiles the script at cfg.Path and checks that it defines a global
// function on_call. A nil log discards logs.
func New(cfg Config, log *slog.Logger) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lib, err := newLibrary()
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, log: log, lib: lib}
	st, err := stat(cfg.Path)
	if err != nil {
		return nil, err
	}
	proto, err := load(context.Background(), e.lib, cfg, log.With("script", cfg.Path))
	if err != nil {
		return nil, err // a *ScriptError, or a read error
	}
	e.prog = program{proto: proto}
	e.seen = st
	return e, nil
}

// Run runs on_call(call) for the call s in a fresh sandboxed Lua state and
// returns when on_call returns, fails, or the call's ctx ends. It returns
// nil when on_call returned; a *ScriptError (errors.Is ErrScript, and
// ErrBudget or ErrMaxDuration for exceeded limits) when the script failed;
// and an error wrapping ctx.Err() (or the call API's context error) when
// the call ended under the script (not a script error). Run logs the
// outcome only at debug level: logging the error is the caller's job.
// What to do with the call afterwards is the caller's decision too.
func (e *Engine) Run(ctx context.Context, s Session) error {
	proto := e.current(ctx)
	log := e.log.With("call_id", s.ID())
	err := execute(ctx, e.lib, proto, e.cfg, s, log, onCall(e.lib))
	if err != nil {
		log.Debug("dialplan: script stopped", "err", err, "script_error", errors.Is(err, ErrScript))
	}
	return err
}

// current returns the script to run: it recompiles the file when its
// modification time or size changed, and keeps the last good version when
// the new one is broken (logging why, once per change). Only the Run that
// notices a change waits for the compile; the others go on with the last
// good version meanwhile.
func (e *Engine) current(ctx context.Context) *lua.FunctionProto {
	st, err := stat(e.cfg.Path)
	e.mu.Lock()
	if err != nil {
		if !e.statErr {
			e.statErr = true
			e.log.Error("dialplan: cannot stat script, keeping the last good version", "script", e.cfg.Path, "err", err)
		}
		defer e.mu.Unlock()
		return e.prog.proto
	}
	e.statErr = false
	if st == e.seen {
		defer e.mu.Unlock()
		return e.prog.proto
	}
	e.seen = st
	e.gen++
	gen, last := e.gen, e.prog.proto
	e.mu.Unlock()

	proto, err := load(context.WithoutCancel(ctx), e.lib, e.cfg, e.log.With("script", e.cfg.Path))
	if err != nil {
		e.log.Error("dialplan: script change rejected, keeping the last good version", "script", e.cfg.Path, "err", err)
		return last
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if gen > e.prog.gen {
		e.prog = program{proto: proto, gen: gen}
		e.log.Info("dialplan: script reloaded", "script", e.cfg.Path)
	}
	return proto
}
