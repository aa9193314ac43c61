package dialplan

import (
	"sync"
	"sync/atomic"

	"github.com/softswitch/softswitch/dialplan/internal/luapattern"
)

// maxCachedPatterns bounds a patternCache: a script that builds its
// patterns from what callers send cannot grow it past this.
const maxCachedPatterns = 256

// patternCache keeps the Lua patterns the runs of one library compiled,
// for every later run: a dialplan's patterns are mostly literals of its
// code, compiled once instead of at every call (issue 20: 1.8 KB and a
// compile per call:match). A compiled pattern is never changed by a
// search, so runs share it. When maxCachedPatterns are kept, the cache
// starts afresh (so that patterns of a script since reloaded do not keep
// the current ones out).
type patternCache struct {
	m sync.Map // pattern text -> *luapattern.Pattern
	n atomic.Int32
}

func (c *patternCache) get(text string) (*luapattern.Pattern, error) {
	if p, ok := c.m.Load(text); ok {
		return p.(*luapattern.Pattern), nil
	}
	p, err := luapattern.Compile(text)
	if err != nil {
		return nil, err
	}
	if c.n.Load() >= maxCachedPatterns {
		c.m.Clear()
		c.n.Store(0)
	}
	if _, loaded := c.m.LoadOrStore(text, p); !loaded {
		c.n.Add(1)
	}
	return p, nil
}
