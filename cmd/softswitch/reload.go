package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/softswitch/softswitch/b2bua/trunk"
)

// reloader applies a changed configuration file without a restart: the
// trunks are replaced (calls in progress go on), and any other key that
// changed is reported as needing a restart. The dialplan reloads itself
// when its file changes; `softswitch reload` also recompiles it at once,
// so that a broken script is reported to the operator there and then.
type reloader struct {
	args     []string // serve's command line: the file, then the flags over it
	path     string   // the configuration file, "" when there is none
	trunks   *trunk.Set
	dialplan scriptReloader // nil: the dialplan is not reloaded on command
	log      *slog.Logger

	mu      sync.Mutex
	running Config // the configuration in force
	stamp   fileStamp
}

// scriptReloader recompiles the dialplan (dialplan.Engine).
type scriptReloader interface {
	Reload(ctx context.Context) error
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func statConfig(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size()}
}

func newReloader(args []string, cfg Config, set *trunk.Set, log *slog.Logger) *reloader {
	r := &reloader{args: args, path: configPathOf(args), trunks: set, log: log, running: cfg}
	if r.path != "" {
		r.stamp = statConfig(r.path)
	}
	return r
}

// configPathOf finds --config in serve's arguments.
func configPathOf(args []string) string {
	for i, a := range args {
		switch {
		case (a == "--config" || a == "-config") && i+1 < len(args):
			return args[i+1]
		case strings.HasPrefix(a, "--config="), strings.HasPrefix(a, "-config="):
			return a[strings.Index(a, "=")+1:]
		}
	}
	return ""
}

// reloadAll is `softswitch reload`: the dialplan is recompiled first (a
// broken one refuses the whole reload, with its file:line), then the
// configuration is applied.
func (r *reloader) reloadAll(ctx context.Context, why string) (string, error) {
	if r.dialplan != nil {
		if err := r.dialplan.Reload(ctx); err != nil {
			r.log.Error("reload refused: the dialplan does not compile; keeping the running configuration and dialplan", "trigger", why, "error", err)
			return "", fmt.Errorf("reload refused, the running configuration and dialplan are kept: %w", err)
		}
	}
	text, err := r.reload(why)
	if err != nil {
		return "", err
	}
	if r.dialplan != nil {
		text = "dialplan: reloaded\n" + text
	}
	return text, nil
}

// reload reads the configuration again and applies it. A configuration
// with an error changes nothing.
func (r *reloader) reload(why string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.path != "" {
		r.stamp = statConfig(r.path)
	}
	cfg, err := parseServeFlags(r.args)
	if err != nil {
		r.log.Error("reload refused: keeping the running configuration", "trigger", why, "error", err)
		return "", fmt.Errorf("reload refused, the running configuration is kept: %w", err)
	}
	ch, err := r.trunks.Apply(cfg.Trunks)
	if err != nil { // checked by parseServeFlags already
		r.log.Error("reload refused: keeping the running configuration", "trigger", why, "error", err)
		return "", fmt.Errorf("reload refused, the running configuration is kept: %w", err)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "trunks: %s\n", ch)
	for _, l := range []struct {
		what  string
		names []string
	}{{"added", ch.Added}, {"changed", ch.Changed}, {"removed", ch.Removed}} {
		if len(l.names) > 0 {
			fmt.Fprintf(&out, "  %s: %s\n", l.what, strings.Join(l.names, ", "))
		}
	}
	for _, key := range restartKeys(r.running, cfg) {
		fmt.Fprintf(&out, "%s changed: it takes effect after a restart\n", key)
		r.log.Warn("configuration key changed: it takes effect after a restart", "key", key)
	}
	r.log.Info("configuration reloaded", "trigger", why, "trunks", ch.String())
	cfg.Trunks = nil
	r.running = cfg
	return out.String(), nil
}

// restartKeys names the keys other than trunks that differ.
func restartKeys(old, cur Config) []string {
	var keys []string
	ov, cv := reflect.ValueOf(old), reflect.ValueOf(cur)
	t := ov.Type()
	for i := 0; i < t.NumField(); i++ {
		key := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if key == "trunks" || key == "" {
			continue
		}
		if !reflect.DeepEqual(ov.Field(i).Interface(), cv.Field(i).Interface()) {
			keys = append(keys, key)
		}
	}
	return keys
}

// watch reloads when the configuration file changes (polled every 2 s,
// as editors replace files in ways inotify watchers often miss).
func (r *reloader) watch(ctx context.Context) {
	if r.path == "" {
		return
	}
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := statConfig(r.path)
		r.mu.Lock()
		changed := st != r.stamp && st != (fileStamp{})
		r.mu.Unlock()
		if changed {
			_, _ = r.reload("file changed") // logged
		}
	}
}
