package dialplan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Check compiles the script at path and runs its top level in a sandbox to
// check that it defines a global function on_call, for `softswitch
// dialplan check FILE`. Errors are *ScriptError values (ErrCompile, or
// ErrScript/ErrBudget for a top level that fails) whose message includes
// file:line.
func Check(path string) error {
	cfg, err := Config{Path: path}.withDefaults()
	if err != nil {
		return err
	}
	lib, err := newLibrary()
	if err != nil {
		return err
	}
	_, err = load(context.Background(), lib, cfg, slog.New(slog.DiscardHandler))
	return err
}

// load reads, compiles and validates the script at cfg.Path. It never
// panics.
func load(ctx context.Context, lib *library, cfg Config, log *slog.Logger) (*lua.FunctionProto, error) {
	src, err := os.ReadFile(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("dialplan: read script: %w", err)
	}
	proto, err := compile(cfg.Path, src)
	if err != nil {
		return nil, err
	}
	if err := execute(ctx, lib, proto, cfg, nil, log, onCall(lib)); err != nil {
		return nil, err
	}
	return proto, nil
}

// compile parses and compiles src, naming the chunk name so that runtime
// errors read "name:line: ...". Errors are *ScriptError values of kind
// ErrCompile.
func compile(name string, src []byte) (proto *lua.FunctionProto, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			proto, err = nil, &ScriptError{Kind: ErrCompile, File: name, Msg: fmt.Sprintf("compiler failure: %v", rec)}
		}
	}()
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		return nil, parseError(name, src, err)
	}
	proto, err = lua.Compile(chunk, name)
	if err != nil {
		var cerr *lua.CompileError
		if errors.As(err, &cerr) {
			return nil, &ScriptError{Kind: ErrCompile, File: name, Line: cerr.Line, Msg: cerr.Message}
		}
		return nil, &ScriptError{Kind: ErrCompile, File: name, Msg: err.Error()}
	}
	// The main chunk is a vararg function that never names its Lua 5.0
	// "arg" table (gopher-lua declares that local in nested functions
	// only), yet each run of it would build one (a table with a hash
	// part, 2-3 KB a call, issue 20): nothing can read it, so it is not
	// built. Nested functions keep theirs.
	proto.IsVarArg &^= lua.VarArgNeedsArg
	return proto, nil
}

// parseError turns a parser error into a *ScriptError with a line: an
// error at the end of the file is placed on the file's last line.
func parseError(name string, src []byte, err error) error {
	var perr *parse.Error
	if !errors.As(err, &perr) {
		return &ScriptError{Kind: ErrCompile, File: name, Msg: strings.TrimSpace(err.Error())}
	}
	msg := strings.TrimSpace(perr.Message)
	line := perr.Pos.Line
	if line == parse.EOF {
		line = bytes.Count(bytes.TrimRight(src, "\n"), []byte("\n")) + 1
		msg = "at end of file: " + msg
	} else {
		line = unterminatedLine(src, line, msg, perr.Token)
		if perr.Token != "" {
			msg = fmt.Sprintf("near %q: %s", perr.Token, msg)
		}
	}
	return &ScriptError{Kind: ErrCompile, File: name, Line: line, Msg: msg}
}

// unterminatedLine corrects the line of an unterminated string: gopher-lua
// reports it after reading the newline that ends the string's line, so one
// line late.
func unterminatedLine(src []byte, line int, msg, token string) int {
	if msg != "unterminated string" || line < 2 {
		return line
	}
	lines := bytes.Split(src, []byte("\n"))
	if line-2 < len(lines) && bytes.HasSuffix(bytes.TrimRight(lines[line-2], "\r"), []byte(token)) {
		return line - 1
	}
	return line
}
