package dialplantest

import (
	"log/slog"
	"testing"

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
