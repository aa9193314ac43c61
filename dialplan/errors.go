package dialplan

import (
	"errors"
	"strconv"
	"strings"
)

// ErrScript is wrapped by every error that a script causes: a Lua runtime
// error, a bad argument to the call API, an exceeded budget, a script that
// does not compile. Such errors are *ScriptError values and carry the
// script's file and line.
var ErrScript = errors.New("dialplan: script error")

// ErrBudget reports a script that ran Lua for longer than Config.CPUBudget
// without calling the call API (a busy loop). It is an ErrScript.
var ErrBudget error = &kindError{msg: "dialplan: cpu budget exceeded", parent: ErrScript}

// ErrMaxDuration reports a script that ran longer than Config.MaxDuration in
// total, blocking calls included. It is an ErrScript.
var ErrMaxDuration error = &kindError{msg: "dialplan: max duration exceeded", parent: ErrScript}

// ErrMemory reports a script that held more memory than Config.MaxMemory,
// or made a string larger than 1 MiB. It is an ErrScript.
var ErrMemory error = &kindError{msg: "dialplan: memory limit exceeded", parent: ErrScript}

// ErrCompile reports a script that does not compile or does not define a
// global function on_call. It is an ErrScript.
var ErrCompile error = &kindError{msg: "dialplan: compile error", parent: ErrScript}

// kindError is a sentinel that is also another sentinel, so that
// errors.Is(ErrBudget, ErrScript) holds.
type kindError struct {
	msg    string
	parent error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.parent }

// ScriptError is an error located in a script. Kind is ErrScript,
// ErrBudget, ErrMaxDuration, ErrMemory or ErrCompile.
type ScriptError struct {
	Kind error
	File string
	Line int // 0 when the position is unknown
	Msg  string
}

func (e *ScriptError) Error() string {
	return e.Kind.Error() + ": " + e.Where() + ": " + e.Msg
}

// Unwrap returns the error's kind.
func (e *ScriptError) Unwrap() error { return e.Kind }

// Where returns "file:line", or just the file when the line is unknown.
func (e *ScriptError) Where() string {
	if e.Line <= 0 {
		return e.File
	}
	return e.File + ":" + strconv.Itoa(e.Line)
}

// splitPosition splits a gopher-lua message "file:line: text" raised in the
// script named file into its line and text. It returns line 0 and the
// message unchanged when the message does not start with such a position.
func splitPosition(msg, file string) (int, string) {
	rest, ok := strings.CutPrefix(msg, file+":")
	if !ok {
		return 0, msg
	}
	num, text, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, msg
	}
	line, err := strconv.Atoi(num)
	if err != nil || line <= 0 {
		return 0, msg
	}
	return line, strings.TrimPrefix(text, " ")
}
