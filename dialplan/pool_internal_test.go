package dialplan

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// A state released after a clean run is given out again, sandboxed anew;
// one released after a run that did not end cleanly never is.
func TestStatePool(t *testing.T) {
	lib, err := newLibrary()
	if err != nil {
		t.Fatal(err)
	}
	L, err := lib.newState()
	if err != nil {
		t.Fatal(err)
	}
	// sync.Pool drops a quarter of what it is given under the race
	// detector: a few rounds, each losing with probability 1/4.
	reused := false
	for range 50 {
		g := L.G.Global
		g.RawSetString("leak", lua.LString("x"))
		L.Push(lua.LString("left on the stack"))
		lib.release(L, true)
		M, err := lib.newState()
		if err != nil {
			t.Fatal(err)
		}
		if M == L {
			reused = true
			if M.G.Global == g || M.GetGlobal("leak") != lua.LNil || M.GetTop() != 0 {
				t.Fatalf("a reused state kept its run's globals or stack (leak = %v, top %d)", M.GetGlobal("leak"), M.GetTop())
			}
			if _, ok := M.GetGlobal("string").(*lua.LTable); !ok || M.GetGlobal("_G") != M.G.Global || M.Env != M.G.Global {
				t.Fatal("a reused state has no sandbox")
			}
			break
		}
		L = M
	}
	if !reused {
		t.Fatal("no released state was given out again in 50 rounds")
	}
	for range 50 {
		lib.release(L, false)
		M, err := lib.newState()
		if err != nil {
			t.Fatal(err)
		}
		if M == L {
			t.Fatal("a state released after a run that did not end cleanly was given out again")
		}
		L = M
	}
}
