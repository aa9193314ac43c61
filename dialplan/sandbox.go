package dialplan

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// Sizes of a call's Lua state: small enough that a fresh state per call is
// cheap, large enough for any dialplan. Deeper recursion fails with "stack
// overflow", larger frames with "registry overflow"; both are script errors.
// The call stack grows 8 frames at a time up to callStackSize
// (MinimizeStackMemory): a dialplan waiting in call:bridge is a few frames
// deep, and 128 frames allocated up front were 10 KiB per call.
const (
	callStackSize = 128
	// registrySize is the registry a state starts with, gopher-lua's
	// least (128 values, 2 KiB; a dialplan waiting in call:bridge uses a
	// few dozen).
	registrySize = 128
	// globalsHint is the room a call's globals table starts with: _G,
	// the four library tables, trunk, on_call, and a name to spare.
	globalsHint = 8
	// registryMaxSize bounds the values a state holds on its stack: every
	// frame's registers and what a builtin pushes (string.byte, unpack,
	// select). Lua 5.1 itself refuses more than 8000 results ("string
	// slice too long", "too many results to unpack"); 64 Ki slots (1 MiB)
	// keep a builtin that fills them well within the CPU budget even under
	// the race detector, where 256 Ki slots took seconds of copying.
	registryMaxSize = 64 * 1024
	// registryGrowStep is how much the registry grows at a time. gopher-lua
	// grows it linearly (32 by default) and copies it each time: a Go
	// function that pushes many values (table.concat, unpack) then runs in
	// quadratic time, out of reach of the CPU budget, which is only seen
	// between instructions. 4096 bounds a full registry to 16 copies.
	registryGrowStep = 4096
	maxStringBytes   = 1 << 20 // largest string a script may make
)

// library is the sandbox's standard library, built once and shared by
// every call's state: the base, table, string and math libraries of
// gopher-lua, less what a dialplan must not have.
//
// A call's state does not copy it. Its globals table and its string,
// table and math tables start empty, with a metatable whose __index is
// the shared table: a read finds the library, an assignment lands in the
// call's own table and shadows the library for that call only. The
// shared tables are never handed to a script (the metatables are
// protected: getmetatable returns false, setmetatable refuses), and the
// sandbox has no debug library, so no script can change what another
// call sees. Copying the library into every state cost 12 KiB and two
// thirds of a run's CPU.
//
// What a script can tell: rawget(string, "upper") and pairs(string) see
// only what the call itself assigned, and assigning nil to a library
// name (string.upper = nil) does not remove it.
type library struct {
	globals *lua.LTable // metatable of a call's globals
	tables  []libTable  // string, table, math
	call    *callType
	// states are the states of runs that ended cleanly, for the next
	// runs (release), emptied of their run's tables: they hold blank, an
	// empty table no run ever gets, until newState sandboxes them anew.
	states   sync.Pool
	blank    *lua.LTable
	patterns patternCache
}

// libTable is a library table a call's state gets an empty table for.
type libTable struct {
	name string
	meta *lua.LTable // the empty table's metatable: __index is the library
}

// newLibrary opens the libraries in a template state and keeps the
// sandbox's part of them.
//
// Left out: io, os, debug, package, channel and coroutine (the call API
// blocks, so a dialplan has no use for cooperative threads, and one
// execution path keeps the budget simple); dofile, loadfile, load,
// loadstring, require and module (loading code), setfenv and getfenv,
// newproxy, _printregs (writes to stdout) and string.dump. Replaced:
// collectgarbage and math.randomseed (they act on the whole process) by
// no-ops, string.rep, string.format and table.concat by size-limited
// versions, the pattern functions (find, match, gmatch, gsub) by versions
// that stop with the run (strlib.go). print and log.* log to the run's
// logger (log.go).
func newLibrary() (lib *library, err error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	defer func() {
		if rec := recover(); rec != nil {
			lib, err = nil, fmt.Errorf("dialplan: open libraries: %v", rec)
		}
	}()
	for _, open := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		L.Push(L.NewFunction(open.fn))
		L.Push(lua.LString(open.name))
		L.Call(1, 0)
	}
	format, ok := L.GetField(L.GetGlobal(lua.StringLibName), "format").(*lua.LFunction)
	if !ok || !format.IsG {
		return nil, errors.New("dialplan: open libraries: no string.format")
	}
	replace := map[string]lua.LValue{
		"dofile": nil, "loadfile": nil, "load": nil, "loadstring": nil,
		"require": nil, "module": nil, "setfenv": nil, "getfenv": nil,
		"newproxy": nil, "_printregs": nil, "print": nil, "_G": nil,
		"collectgarbage":  L.NewFunction(luaCollectGarbage),
		"string.dump":     nil,
		"string.rep":      L.NewFunction(luaStringRep),
		"table.concat":    L.NewFunction(luaTableConcat),
		"string.find":     L.NewFunction(luaStrFind),
		"string.match":    L.NewFunction(luaStrMatch),
		"string.gmatch":   L.NewFunction(luaStrGmatch),
		"string.gfind":    L.NewFunction(luaStrGmatch),
		"string.gsub":     L.NewFunction(luaStrGsub),
		"string.format":   L.NewFunction(formatWith(format.GFunction)),
		"string.__index":  nil, // set to the state's own string table
		"math.randomseed": L.NewFunction(luaNoop),
	}
	lib = &library{call: newCallType(L), blank: L.CreateTable(0, 0)}
	base := L.CreateTable(0, 32)
	L.G.Global.ForEach(func(k, v lua.LValue) {
		name := k.String()
		tb, ok := v.(*lua.LTable)
		if !ok {
			setEntry(base, replace, name, name, v)
			return
		}
		if name == "_G" {
			return
		}
		shared := L.CreateTable(0, 32)
		tb.ForEach(func(k, v lua.LValue) {
			if _, nested := v.(*lua.LTable); !nested {
				setEntry(shared, replace, name+"."+k.String(), k.String(), v)
			}
		})
		lib.tables = append(lib.tables, libTable{name: name, meta: readOnlyMeta(L, shared)})
	})
	logTable, print := logLibrary(L)
	base.RawSetString("print", print)
	lib.tables = append(lib.tables, libTable{name: "log", meta: readOnlyMeta(L, logTable)},
		libTable{name: "os", meta: readOnlyMeta(L, osLibrary(L))},
		libTable{name: "trunk", meta: readOnlyMeta(L, trunkLibrary(L))})
	lib.globals = readOnlyMeta(L, base)
	return lib, nil
}

// readOnlyMeta returns a protected metatable that reads from shared.
func readOnlyMeta(L *lua.LState, shared *lua.LTable) *lua.LTable {
	mt := L.CreateTable(0, 2)
	mt.RawSetString("__index", shared)
	mt.RawSetString("__metatable", lua.LFalse)
	return mt
}

// setEntry sets tb[name] = v, or its replacement when key is in replace
// (nil: leave it out).
func setEntry(tb *lua.LTable, replace map[string]lua.LValue, key, name string, v lua.LValue) {
	if r, ok := replace[key]; ok {
		if r == nil {
			return
		}
		v = r
	}
	tb.RawSetString(name, v)
}

// newState returns a sandboxed Lua state with globals and library tables
// (string, table, math, log, os, trunk) of its own that read through to
// lib; the functions that need the call's run find it through the state's
// context. The state is one a clean run handed back (release) when there
// is one, else a new one.
func (lib *library) newState() (L *lua.LState, err error) {
	if L, ok := lib.states.Get().(*lua.LState); ok {
		lib.sandbox(L)
		return L, nil
	}
	L = lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       callStackSize,
		MinimizeStackMemory: true,
		// Only Go panics pay for it: see callStackOverflow.
		IncludeGoStackTrace: true,
		RegistrySize:        registrySize,
		RegistryMaxSize:     registryMaxSize,
		RegistryGrowStep:    registryGrowStep,
	})
	defer func() {
		if rec := recover(); rec != nil {
			L.Close()
			L, err = nil, fmt.Errorf("dialplan: new state: %v", rec)
		}
	}()
	lib.sandbox(L)
	return L, nil
}

// sandbox gives L new globals, registry and library tables, and its own
// string metatable: whatever a run before did to its state (globals set,
// libraries shadowed, the string metatable's table changed) is gone, as
// with a new state. gopher-lua's own globals and registry tables are
// sized for a full library (64 and 32 entries); a call's hold a few names.
func (lib *library) sandbox(L *lua.LState) {
	g := L.CreateTable(0, globalsHint)
	g.Metatable = lib.globals
	L.G.Global, L.Env = g, g
	L.G.Registry = L.CreateTable(0, 0)
	g.RawSetString("_G", g)
	for _, t := range lib.tables {
		// Room for one name: gopher-lua gives a table 32 on its first
		// name otherwise (1 KiB), and only the string table gets one
		// here (__index) until the script assigns to a library.
		tb := L.CreateTable(0, 1)
		tb.Metatable = t.meta
		g.RawSetString(t.name, tb)
		if t.name == lua.StringLibName { // ("x"):upper() and friends
			tb.RawSetString("__index", tb)
			L.SetMetatable(lua.LString(""), tb)
		}
	}
}

// release takes back the state of a run. A run that ended cleanly (its
// script returned, no error, no limit hit, not stopped) leaves nothing
// but its own tables behind: its state goes back to the pool with its
// context removed, its stack emptied and those tables dropped, and the
// next newState gives it a new sandbox (issue 20: a new gopher-lua state
// was half of what a call's run allocated, 13.6 KB). Any other state is
// closed and left to the collector.
func (lib *library) release(L *lua.LState, clean bool) {
	if !clean {
		L.Close()
		return
	}
	L.RemoveContext()
	L.SetTop(0)
	L.G.Global, L.Env, L.G.Registry = lib.blank, lib.blank, lib.blank
	L.SetMetatable(lua.LString(""), lua.LNil)
	lib.states.Put(L)
}

// luaCollectGarbage stands in for collectgarbage, which would run a
// process-wide Go GC: it does nothing and reports 0 (as "count" would).
func luaCollectGarbage(L *lua.LState) int {
	L.Push(lua.LNumber(0))
	return 1
}

func luaNoop(*lua.LState) int { return 0 }

// luaStringRep is string.rep with the result limited to maxStringBytes, so a
// script cannot allocate gigabytes in one builtin call.
func luaStringRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if n > maxStringBytes/len(s) {
		L.RaiseError("string.rep: result larger than %d bytes", maxStringBytes)
		return 0
	}
	L.Push(lua.LString(strings.Repeat(s, n)))
	return 1
}

// luaTableConcat is table.concat with the result limited to maxStringBytes.
// gopher-lua's own pushes every element on the Lua stack, growing it step
// by step: quadratic, about 20 s for 100,000 strings, inside one builtin
// the CPU budget cannot interrupt.
func luaTableConcat(L *lua.LState) int {
	tbl := L.CheckTable(1)
	sep := L.OptString(2, "")
	i := L.OptInt(3, 1)
	j := L.OptInt(4, tbl.Len())
	var b strings.Builder
	for k := i; k <= j; k++ {
		v := tbl.RawGetInt(k)
		switch v.(type) {
		case lua.LString, lua.LNumber:
		default:
			L.RaiseError("invalid value (%s) at index %d in table for concat", v.Type().String(), k)
			return 0
		}
		s := v.String()
		if b.Len()+len(s)+len(sep) > maxStringBytes {
			L.RaiseError("table.concat: result larger than %d bytes", maxStringBytes)
			return 0
		}
		b.WriteString(s)
		if k != j {
			b.WriteString(sep)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}
