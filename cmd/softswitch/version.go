package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// versionCmd implements `softswitch version`.
func versionCmd(args []string, stdout io.Writer) error {
	c := newCommand(stdout, "version", "", "Print the version: the one set with -ldflags \"-X main.version=...\", else the module version or VCS revision Go recorded in the binary.")
	if _, err := c.parseN(args); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, "softswitch", buildVersion(version, info))
	return nil
}

// buildVersion is v when -ldflags set it; otherwise the main module's
// version (go install m@v) or the VCS revision, time and dirty mark a
// plain `go build` in a checkout records.
func buildVersion(v string, info *debug.BuildInfo) string {
	if v != "dev" || info == nil {
		return v
	}
	if mv := info.Main.Version; mv != "" && mv != "(devel)" {
		return mv
	}
	var rev, at, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if at != "" {
		return fmt.Sprintf("dev-%s%s (%s)", rev, dirty, at)
	}
	return "dev-" + rev + dirty
}
