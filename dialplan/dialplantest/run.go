package dialplantest

import (
	"log/slog"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
)

// Run builds an Engine for the script at scriptPath (default limits, logs
// discarded) and runs it for s with the test's context. It returns New's
// error for a script that does not compile, else Run's.
func Run(t testing.TB, scriptPath string, s *FakeSession) error {
	t.Helper()
	e, err := dialplan.New(dialplan.Config{Path: scriptPath}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	return e.Run(t.Context(), s)
}

// RunAt is Run with the script's clock (os.time, os.date) stopped at now,
// in now's time zone: time-of-day rules can be tested at fixed times.
func RunAt(t testing.TB, scriptPath string, s *FakeSession, now time.Time) error {
	t.Helper()
	e, err := dialplan.New(dialplan.Config{Path: scriptPath, Clock: func() time.Time { return now }}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	return e.Run(t.Context(), s)
}
