package dialplantest

import (
	"context"

	"github.com/softswitch/softswitch/dialplan"
)

var _ dialplan.Transferer = (*FakeSession)(nil)

// ReferredBy is call.referred_by (Call.Referrer).
func (s *FakeSession) ReferredBy() string { return s.Call.Referrer }

// Transfer records "transfer TARGET"; Errors["transfer"] makes it fail.
func (s *FakeSession) Transfer(_ context.Context, target string) error {
	s.record("transfer %s", target)
	return s.fail("transfer")
}
