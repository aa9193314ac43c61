package dialplan

import (
	"context"
	"fmt"
	"runtime/metrics"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Memory accounting of a run. gopher-lua has no allocator hook, and the
// Go heap is shared by every call (gopher-lua's SetMx measures the whole
// process and exits it): a run instead estimates the memory its own state
// holds, by walking the values reachable from it, and stops the script
// with ErrMemory past Config.MaxMemory.
const (
	// meterEvery is how many Lua instructions pass between two looks at
	// the process's allocation counter (about 200 ns each).
	meterEvery = 64
	// walkAfterBytes is how much the process must have allocated since
	// the last walk before the next one (at least; a state holding more
	// waits for half its size, so that walking stays a fraction of the
	// work that made the memory).
	walkAfterBytes = 1 << 20
	// Rough sizes used by the estimate.
	valueBytes = 40 // a table entry: key and value interfaces, boxing
	tableBytes = 96
	funcBytes  = 96
)

// meter is the context set on a run's Lua state. gopher-lua calls Done
// before every instruction, which makes it the run's per-instruction
// hook: it checks the strings in the running function's registers (the
// only place where the VM's own concatenation puts its results, so a
// doubling string is seen one instruction after it passes the limit), and
// every meterEvery instructions it walks the state when enough has been
// allocated since the last walk. Past a limit it cancels the run with
// ErrMemory, and gopher-lua raises the context's error at the next
// instruction (pcall cannot keep the script going: every instruction
// raises it again).
//
// Only the Lua state may use it (its counters are not synchronised); the
// call API and Session get the run's plain context.
type meter struct {
	context.Context
	L         *lua.LState
	r         *run
	max       int64
	n         uint64 // instructions run
	walkN     uint64 // n at the last walk
	allocMark uint64 // process allocation counter at the last walk
	estimate  int64  // bytes found by the last walk
	visits    uint64 // values visited by the last walk
	sample    [1]metrics.Sample
	walker    walker
}

func newMeter(ctx context.Context, L *lua.LState, r *run, max int64) *meter {
	m := &meter{Context: ctx, L: L, r: r, max: max}
	m.sample[0].Name = "/gc/heap/allocs:bytes"
	m.allocMark = m.allocs()
	return m
}

// Done is called by gopher-lua before every instruction.
func (m *meter) Done() <-chan struct{} {
	m.n++
	m.checkRegisters()
	if m.n%meterEvery == 0 {
		m.maybeWalk()
	}
	return m.Context.Done()
}

// checkRegisters stops the run when a register of the running function
// holds a string larger than the limit.
func (m *meter) checkRegisters() {
	L := m.L
	for i, top := 1, L.GetTop(); i <= top; i++ {
		if s, ok := L.Get(i).(lua.LString); ok && int64(len(s)) > maxStringBytes {
			m.exceeded(fmt.Sprintf("a string of %d bytes is larger than the %d allowed", len(s), maxStringBytes))
			return
		}
	}
}

func (m *meter) allocs() uint64 {
	metrics.Read(m.sample[:])
	if m.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return m.sample[0].Value.Uint64()
}

// maybeWalk walks the state when the process has allocated enough since
// the last walk, and the state has run for long enough to pay for it.
func (m *meter) maybeWalk() {
	a := m.allocs()
	if a-m.allocMark < max(walkAfterBytes, uint64(m.estimate/2)) {
		return
	}
	if m.n-m.walkN < m.visits/4 {
		return
	}
	m.allocMark, m.walkN = a, m.n
	w := &m.walker
	*w = walker{limit: m.max, seen: w.seen, todo: w.todo[:0]}
	if w.seen == nil {
		w.seen = map[any]struct{}{}
	}
	clear(w.seen) // keeps its buckets: less garbage from walk to walk
	m.estimate = w.state(m.L)
	m.visits = w.visits
	if m.estimate > m.max {
		m.exceeded(fmt.Sprintf("lua holds more than %d bytes", m.max))
	}
}

// exceeded cancels the run with ErrMemory, saying why.
func (m *meter) exceeded(why string) {
	if m.Context.Err() != nil {
		return
	}
	m.r.limitMsg = why
	m.r.cancel(ErrMemory)
}

// check is for Go builtins that run long (pattern matching): it returns
// the run's error once the run is canceled (budget, hangup, memory).
func (m *meter) check() error {
	if err := m.Context.Err(); err != nil {
		return fmt.Errorf("stopped: %w", context.Cause(m.Context))
	}
	return nil
}

// meterOf returns the meter of L's run, or nil outside a run.
func meterOf(L *lua.LState) *meter {
	m, _ := L.Context().(*meter)
	return m
}

// withRun makes a run's method a function of the shared libraries: it
// finds the call's run through the state's context, so a call's state
// needs no closure of its own for it.
func withRun(f func(r *run, L *lua.LState) int) lua.LGFunction {
	return func(L *lua.LState) int {
		m := meterOf(L)
		if m == nil {
			L.RaiseError("not in a call")
			return 0
		}
		return f(m.r, L)
	}
}

// walker estimates the bytes held by the values reachable from a state,
// counting each table, function and long string once. It stops early past
// limit. It keeps its own stack of values to visit: tables nested a
// million deep must not nest Go calls as deep.
type walker struct {
	limit  int64
	bytes  int64
	seen   map[any]struct{}
	todo   []lua.LValue
	visits uint64
}

// state walks the globals, the registry table, and each active
// function with its named locals and upvalues, plus the registers of the
// running function.
func (w *walker) state(L *lua.LState) int64 {
	w.todo = append(w.todo, L.G.Global, L.G.Registry)
	for i, top := 1, L.GetTop(); i <= top; i++ {
		w.todo = append(w.todo, L.Get(i))
	}
	for level := 0; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if fn, err := L.GetInfo("f", dbg, lua.LNil); err == nil {
			w.todo = append(w.todo, fn)
		}
		for n := 1; ; n++ {
			name, v := L.GetLocal(dbg, n)
			if name == "" {
				break
			}
			w.todo = append(w.todo, v)
		}
	}
	for len(w.todo) > 0 && w.bytes <= w.limit {
		v := w.todo[len(w.todo)-1]
		w.todo = w.todo[:len(w.todo)-1]
		w.value(v)
	}
	return w.bytes
}

// value counts v and queues the values it holds.
func (w *walker) value(v lua.LValue) {
	w.visits++
	switch v := v.(type) {
	case lua.LString:
		if len(v) < 64 || w.once(unsafe.StringData(string(v))) {
			w.bytes += int64(len(v)) + 16
		}
	case *lua.LTable:
		if !w.once(v) {
			return
		}
		w.bytes += tableBytes
		w.todo = append(w.todo, v.Metatable)
		v.ForEach(func(k, e lua.LValue) {
			w.visits++
			w.bytes += valueBytes
			w.push(k)
			w.push(e)
		})
	case *lua.LFunction:
		if !w.once(v) {
			return
		}
		w.bytes += funcBytes
		for _, uv := range v.Upvalues {
			w.todo = append(w.todo, uv.Value())
		}
	case *lua.LUserData:
		if w.once(v) {
			w.bytes += funcBytes
			w.todo = append(w.todo, v.Metatable)
		}
	}
}

// push queues v unless it is a number, boolean or short string, which
// the entry holding it already counts.
func (w *walker) push(v lua.LValue) {
	switch v := v.(type) {
	case lua.LNumber, lua.LBool, *lua.LNilType:
	case lua.LString:
		if len(v) < 64 {
			w.bytes += int64(len(v))
			return
		}
		w.todo = append(w.todo, v)
	default:
		w.todo = append(w.todo, v)
	}
}

// once reports whether p is seen for the first time.
func (w *walker) once(p any) bool {
	if _, ok := w.seen[p]; ok {
		return false
	}
	w.seen[p] = struct{}{}
	return true
}
