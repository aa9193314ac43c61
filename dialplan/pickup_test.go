package dialplan_test

import (
	"errors"
	"testing"

	"github.com/softswitch/softswitch/dialplan"
)

const pickupScript = `
function on_call(call) call:hangup() end
-- the sales group picks up each other's calls; 1099 may pick up any
local sales = { ["1001"] = true, ["1002"] = true }
function on_pickup(p)
  if p.by == "1666" then error("failing on purpose") end
  if p.by == "1667" then return "yes" end
  return p.by == "1099" or (sales[p.by] and sales[p.destination]) or false
end
`

func TestOnPickup(t *testing.T) {
	e, _ := newEngine(t, pickupScript, dialplan.Config{}, discard())
	for _, c := range []struct {
		p     dialplan.Pickup
		allow bool
	}{
		{dialplan.Pickup{By: "1002", Caller: "0301234", Destination: "1001"}, true},
		{dialplan.Pickup{By: "1003", Caller: "0301234", Destination: "1001"}, false},
		{dialplan.Pickup{By: "1002", Caller: "1001", Destination: "1003"}, false},
		{dialplan.Pickup{By: "1099", Caller: "1001", Destination: "1003"}, true},
		{dialplan.Pickup{By: "1667", Caller: "1001", Destination: "1002"}, false}, // only true allows
	} {
		d, err := e.OnPickup(t.Context(), c.p)
		if err != nil || !d.Handled || d.Allow != c.allow {
			t.Errorf("%+v: %+v, %v; want allow %v", c.p, d, err, c.allow)
		}
	}
	d, err := e.OnPickup(t.Context(), dialplan.Pickup{By: "1666", Destination: "1001"})
	if !errors.Is(err, dialplan.ErrScript) || d.Allow {
		t.Fatalf("failing on_pickup: %+v, %v; want a script error and no pickup", d, err)
	}
}

func TestNoOnPickup(t *testing.T) {
	e, _ := newEngine(t, `function on_call(call) call:hangup() end`, dialplan.Config{}, discard())
	d, err := e.OnPickup(t.Context(), dialplan.Pickup{By: "1001", Destination: "1002"})
	if err != nil || d.Handled || d.Allow {
		t.Fatalf("no on_pickup: %+v, %v; want not handled", d, err)
	}
}

func TestShippedPickupGroups(t *testing.T) {
	e, err := dialplan.New(dialplan.Config{Path: shippedScript}, discard())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, c := range []struct {
		by, dest string
		allow    bool
	}{
		{"1001", "1002", true},  // both in the office group
		{"1003", "1000", true},  // both in the office group
		{"1001", "1050", false}, // the ringing extension is in no group
		{"1050", "1001", false}, // the one picking up is in no group
		{"1001", "07010002000", false},
	} {
		d, err := e.OnPickup(t.Context(), dialplan.Pickup{By: c.by, Caller: "0301234", Destination: c.dest})
		if err != nil || !d.Handled || d.Allow != c.allow {
			t.Errorf("%s picks up a call to %s: %+v, %v; want allow %v", c.by, c.dest, d, err, c.allow)
		}
	}
}
