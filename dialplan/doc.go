// Package dialplan runs the operator's Lua dialplan (scripts/dialplan.lua
// by default) for each call.
//
// The script is Lua 5.1 as implemented by gopher-lua
// (github.com/yuin/gopher-lua). It must define a global function
// on_call(call); the b2bua calls Engine.Run for each new call, which runs
// on_call with a call object implementing the Session interface. No SIP or
// telephony RFC is implemented here: SIP, SDP and media belong to the
// b2bua behind Session. The script surface is:
//
//	call.id, call.caller, call.caller_name, call.destination,
//	call.source, call.transport                    read-only strings
//	call:header(name)                              -> string or nil
//	call:answer(), call:ring()
//	call:play(name_or_path)
//	call:collect{max=, timeout=, terminator=, prompt=}  -> digits
//	call:bridge(targets, {timeout=})               -> true | nil, reason
//	call:hangup([cause])                           "busy", "no-answer", ..., or 400-699
//	call:set(name, value)
//	log.debug(...), log.info(...), log.warn(...), log.error(...), print(...)
//
// Timeouts are in seconds. Expected outcomes (busy, no answer) are return
// values; bad arguments raise Lua errors carrying the script's file:line.
//
// # Lifecycle
//
// New compiles the script once (parse, compile to a FunctionProto) and runs
// its top level in a sandbox to check that on_call exists. Each Run stats
// the file; when its modification time or size changed, the script is
// recompiled, and a broken version is logged (once per change, with
// file:line) while the last good version stays in use. Check does the same
// compile and check for `softswitch dialplan check FILE`.
//
// Each Run gets a fresh Lua state (nothing leaks between calls) and runs
// the script's top level, then on_call(call). When on_call returns or
// fails, Run returns; the caller (the b2bua) decides what follows: a 500
// if the call was never answered, a hangup if it was. Run returns script
// errors (ErrScript, with file:line) without logging them; an ended call
// (the context ended) is returned as the context's error, not ErrScript.
//
// # Sandbox
//
// A state opens only the base, table, string and math libraries. It has
// no io, os, debug, package, channel or coroutine (the call API blocks, so
// a dialplan needs no coroutines); dofile, loadfile, load, loadstring,
// require, module, setfenv, getfenv, newproxy and string.dump are removed;
// print and log.* go to the injected logger with the call_id;
// collectgarbage and math.randomseed are harmless no-ops (the originals act
// on the whole process); string.rep results are limited to 1 MiB.
//
// # Limits
//
// The call's context is set on the Lua state, which checks it before every
// instruction: a hangup stops the script where it is, and the call API
// passes the context to Session, which must return when it ends. The CPU
// budget (Config.CPUBudget) bounds the time Lua runs between two blocking
// call API calls (answer, ring, play, collect, bridge, hangup): a watchdog
// cancels the run with ErrBudget past it; time blocked in the API does not
// count. The budget is wall-clock time while Lua runs (a machine too
// loaded to run the script counts against it), hence its generous default.
// Config.MaxDuration bounds a whole run. Both are errors located at the
// line that was running.
//
// What is not bounded: memory (a script building huge strings or tables
// within its budget can use much of it), and a single Go builtin, such as
// a pattern match on a long string, which runs to completion before the
// context is checked again. Scripts are the operator's code; the limits
// guard against mistakes, not against a hostile author.
package dialplan
