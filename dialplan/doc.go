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
//	call:play(name_or_path, ...)                   several in a row; or call:play{...}
//	call:say_digits(digits), call:say_number(n)    English, prompts say-* in sounds/
//	call:sleep(seconds)                            at most 3600, ends with the call
//	call:collect{max=, timeout=, terminator=, prompt=}  -> digits
//	call:record(name, {max=, silence=, terminator=})    -> path, seconds, reason
//	call:bridge(targets, {timeout=, record=})      -> true | nil, reason; record = true
//	                                               records the bridge (as record_call())
//	call:record_call([name])                       -> path: the next bridge is recorded,
//	                                               stereo WAV or Ogg Opus, caller left, callee right,
//	                                               through hold and transfer; the CDR names it
//	call:conference(room, {pin=, max=, moderator=, muted=, gain=, record=})
//	                                               -> nil, reason ("wrong-pin", "full", "locked",
//	                                               "kicked"); record = true records the room's mix
//	                                               (ROOM-DATE-TIME in the recordings directory, from the
//	                                               first such member until the room closes); the CDR names it
//	call:hangup([cause])                           "normal", "busy", "no-answer",
//	                                               "unavailable", "declined", "not-found",
//	                                               "forbidden", "congestion", ..., or 400-699
//	call:voicemail(ext, {greeting=, max=, silence=})    -> true | nil, reason
//	call:voicemail_messages(ext)                   -> {{id=, caller=, time=, seconds=, heard=, path=}, ...}
//	call:voicemail_heard(ext, id), call:voicemail_delete(ext, id)
//	call:set(name, value), call:get(name)          vars: logged, in the CDR (vars column)
//	os.time([t]), os.date([format [, t]]), os.difftime(t2, t1), os.clock()
//	call.referred_by                               who transferred the call here (REFER), or ""
//	call:transfer(number)                          runs the dialplan again for number (blind transfer)
//	log.debug(...), log.info(...), log.warn(...), log.error(...), print(...)
//
// record, record_call and the voicemail functions need a Session that
// also implements Recorder, CallRecorder or Voicemailer (the b2bua's calls
// do); others raise "not supported by this call". Recording names are
// plain file names (CheckRecordName): a path is a Lua error.
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
// Each Run gets a fresh sandbox (nothing leaks between calls: new globals
// and library tables, in a Lua state that a run before may have used and
// ended cleanly, or a new one) and runs the script's top level, then
// on_call(call). When on_call returns or
// fails, Run returns; the caller (the b2bua) decides what follows: a 500
// if the call was never answered, a hangup if it was. Run returns script
// errors (ErrScript, with file:line) without logging them; an ended call
// (the context ended) is returned as the context's error, not ErrScript.
//
// # Sandbox
//
// A state opens only the base, table, string and math libraries, and an
// os table of its own with time, date, difftime and clock (reading
// Config.Clock, so tests can fix the time; os.date formats in the clock's
// time zone, "!" for UTC). It has no io, debug, package, channel or
// coroutine, nothing else of os (execute, getenv, exit, remove, rename,
// tmpname, setlocale) (the call API blocks, so
// a dialplan needs no coroutines); dofile, loadfile, load, loadstring,
// require, module, setfenv, getfenv, newproxy and string.dump are removed;
// print and log.* go to the injected logger with the call_id;
// collectgarbage and math.randomseed are harmless no-ops (the originals act
// on the whole process); strings made by builtins are limited to 1 MiB.
//
// The libraries are built once and shared by every state, read-only: a
// state's globals and its string, table and math tables start empty and
// read through to them (a protected metatable: getmetatable returns false,
// setmetatable refuses). An assignment lands in the call's own table, so
// string.upper = f changes it for that call only. rawget and pairs on
// those tables see only what the call assigned, and assigning nil to a
// library name does not remove it. This keeps a state at about 8 KiB
// (BenchmarkNewState), which matters because a bridged call keeps its
// state for the whole call.
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
// Long builtins are bounded too: the pattern functions (find, match,
// gmatch, gsub) run on internal/luapattern, which checks the run's context
// every few thousand steps (a backtracking pattern ends with ErrBudget or
// the hangup like a loop does), refuses subjects over 256 KiB and patterns
// over 4 KiB, and limits its backtracking depth; gsub, string.rep,
// string.format and table.concat refuse results over 1 MiB.
//
// Memory: Config.MaxMemory (64 MiB by default) bounds what one call's
// state holds. gopher-lua has no allocator hook and the Go heap is shared
// by every call, so the run estimates its own: the context set on the Lua
// state (meter.go) is consulted before every instruction, stops a string
// over 1 MiB one instruction after it is made, and, when the process has
// allocated enough since its last look, walks the values reachable from
// the state (globals, active functions' locals, upvalues and registers).
// Past the limit the run ends with ErrMemory. The estimate is rough
// (sizes per entry, values in inactive registers unseen): it keeps a
// runaway script from taking the process down, it is not an exact quota.
// gopher-lua's SetMx is never used: it measures the whole process and
// exits it. The registry (the Lua value stack) is limited to 64 Ki slots
// and the call depth to 128 frames.
//
// print and log.* cut a message at 2 KiB and write at most 64 KiB per call
// (the limit is logged once).
//
// Scripts are the operator's code; the limits guard against mistakes and
// against data from the network reaching a pattern, not against a
// hostile author.
package dialplan
