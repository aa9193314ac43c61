package dialplan

import (
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Sizes of a call's Lua state: small enough that a fresh state per call is
// cheap, large enough for any dialplan. Deeper recursion fails with "stack
// overflow", larger frames with "registry overflow"; both are script errors.
const (
	callStackSize = 128
	registrySize  = 256
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

// library is the sandbox's standard library, built once: the base, table,
// string and math libraries of gopher-lua, less what a dialplan must not
// have. Its Go functions are immutable (setfenv and debug, which could
// change them, are not in the sandbox) and shared by every call's state;
// each state gets its own global and library tables holding them, so a
// script that changes string.upper changes it for its own call only.
// Copying these tables is several times cheaper than opening the
// libraries for every call.
type library struct {
	globals []libEntry // base functions and values
	tables  []libTable // string, table, math
	call    *callType
}

type libEntry struct {
	name  string
	value lua.LValue
}

type libTable struct {
	name    string
	entries []libEntry
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
// that stop with the run (strlib.go). print is added per run.
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
	lib = &library{call: newCallType(L)}
	L.G.Global.ForEach(func(k, v lua.LValue) {
		name := k.String()
		tb, ok := v.(*lua.LTable)
		if !ok {
			lib.globals = appendEntry(lib.globals, replace, name, name, v)
			return
		}
		if name == "_G" {
			return
		}
		t := libTable{name: name}
		tb.ForEach(func(k, v lua.LValue) {
			if _, nested := v.(*lua.LTable); !nested {
				t.entries = appendEntry(t.entries, replace, name+"."+k.String(), k.String(), v)
			}
		})
		lib.tables = append(lib.tables, t)
	})
	return lib, nil
}

// appendEntry appends name=v to entries, or its replacement when key is
// in replace (nil: leave it out).
func appendEntry(entries []libEntry, replace map[string]lua.LValue, key, name string, v lua.LValue) []libEntry {
	if r, ok := replace[key]; ok {
		if r == nil {
			return entries
		}
		v = r
	}
	return append(entries, libEntry{name: name, value: v})
}

// newState returns a fresh sandboxed Lua state for r: lib's functions in
// tables of its own, print and log.* going to r's logger.
func (lib *library) newState(r *run) (L *lua.LState, err error) {
	L = lua.NewState(lua.Options{
		SkipOpenLibs:     true,
		CallStackSize:    callStackSize,
		RegistrySize:     registrySize,
		RegistryMaxSize:  registryMaxSize,
		RegistryGrowStep: registryGrowStep,
	})
	defer func() {
		if rec := recover(); rec != nil {
			L.Close()
			L, err = nil, fmt.Errorf("dialplan: new state: %v", rec)
		}
	}()
	g := L.G.Global
	for _, e := range lib.globals {
		g.RawSetString(e.name, e.value)
	}
	g.RawSetString("_G", g)
	for _, t := range lib.tables {
		tb := L.CreateTable(0, len(t.entries)+1)
		for _, e := range t.entries {
			tb.RawSetString(e.name, e.value)
		}
		g.RawSetString(t.name, tb)
		if t.name == lua.StringLibName { // ("x"):upper() and friends
			tb.RawSetString("__index", tb)
			L.SetMetatable(lua.LString(""), tb)
		}
	}
	g.RawSetString("print", L.NewFunction(r.logFunc(levelInfo)))
	g.RawSetString("log", r.logTable(L))
	g.RawSetString("trunk", r.trunkTable(L))
	g.RawSetString("os", r.osTable(L))
	return L, nil
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
