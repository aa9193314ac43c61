// Package luapattern is gopher-lua's Lua pattern matcher
// (github.com/yuin/gopher-lua v1.1.2, package pm, MIT licence: see
// LICENSE) with its search made interruptible: a pattern is compiled once,
// each search counts its steps and calls a check function every few
// thousand of them (the dialplan passes its call's context and budget), and
// the nesting of backtracking is limited (gopher-lua allowed a million
// levels, hundreds of megabytes of Go stack). Matches are otherwise those
// of pm.Find, so scripts see the same results as with gopher-lua's string
// library.
//
// No RFC is implemented here; patterns are those of the Lua 5.1 manual,
// section 5.4.1.
package luapattern
