package dialplan

import "context"

// Reload compiles the script now, whether or not its file changed (for
// `softswitch reload`). A broken script keeps the last good version and
// its *ScriptError (with file:line) is returned; the calls in progress
// are not affected either way.
func (e *Engine) Reload(ctx context.Context) error {
	st, err := stat(e.cfg.Path)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.gen++
	gen := e.gen
	e.mu.Unlock()
	proto, err := load(context.WithoutCancel(ctx), e.lib, e.cfg, e.log.With("script", e.cfg.Path))
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen = st // this version was judged: a call does not compile it again
	if err != nil {
		e.log.Error("dialplan: reload rejected, keeping the last good version", "script", e.cfg.Path, "err", err)
		return err
	}
	if gen > e.prog.gen {
		e.prog = program{proto: proto, gen: gen}
	}
	e.log.Info("dialplan: script reloaded", "script", e.cfg.Path, "trigger", "reload")
	return nil
}
