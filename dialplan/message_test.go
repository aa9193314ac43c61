package dialplan_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/softswitch/softswitch/dialplan"
)

const messageScript = `
function on_call(call) call:hangup() end
function on_message(msg)
  if msg.body == "help" then
    return msg:reply("commands: help, " .. msg.from .. " -> " .. msg.to .. " " .. msg.content_type)
  end
  if msg.trunk ~= "" then
    return msg:deliver("user/" .. msg.to:sub(-4))
  end
  if msg.to:match("^0%d+$") then
    msg:set_caller("4930" .. msg.from, "Ext " .. msg.from)
    return msg:deliver("trunk/carrier/" .. msg.to:sub(2))
  end
  if msg.to == "2000" then
    msg:deliver("1001")
    return msg:deliver("1002")
  end
  if msg.to == "666" then error("failing on purpose") end
  if msg.to == "667" then return msg:reject(1000) end
  if msg.to == "669" then return msg:set_caller("alice") end
  if msg.to == "668" then while true do end end
  msg:reject(403)
end
`

func TestOnMessage(t *testing.T) {
	e, _ := newEngine(t, messageScript, dialplan.Config{}, discard())
	ctx := t.Context()
	d, err := e.OnMessage(ctx, dialplan.Message{From: "1001", To: "1002", Body: "help", ContentType: "text/plain"})
	if err != nil || !d.Handled || !d.Replied || d.Reply != "commands: help, 1001 -> 1002 text/plain" {
		t.Fatalf("help: %+v, %v", d, err)
	}
	d, err = e.OnMessage(ctx, dialplan.Message{From: "1003", To: "2000", Body: "hi"})
	if err != nil || !slices.Equal(d.Deliver, []string{"1001", "1002"}) || d.Replied || d.Reject != 0 {
		t.Fatalf("group: %+v, %v", d, err)
	}
	d, err = e.OnMessage(ctx, dialplan.Message{From: "+15551234", To: "5551001", Trunk: "carrier", Body: "hi"})
	if err != nil || !slices.Equal(d.Deliver, []string{"user/1001"}) {
		t.Fatalf("from a carrier (msg.trunk): %+v, %v", d, err)
	}
	d, err = e.OnMessage(ctx, dialplan.Message{From: "1001", To: "04930555", Body: "hi"})
	if err != nil || !slices.Equal(d.Deliver, []string{"trunk/carrier/4930555"}) || d.CallerNumber != "49301001" || d.CallerName != "Ext 1001" {
		t.Fatalf("to a trunk: %+v, %v", d, err)
	}
	d, err = e.OnMessage(ctx, dialplan.Message{From: "1003", To: "1002", Body: "hi"})
	if err != nil || d.Reject != 403 || len(d.Deliver) != 0 {
		t.Fatalf("refused: %+v, %v", d, err)
	}
	for _, to := range []string{"666", "667", "669"} {
		if _, err := e.OnMessage(ctx, dialplan.Message{From: "1003", To: to}); !errors.Is(err, dialplan.ErrScript) {
			t.Errorf("to %s: %v, want a script error", to, err)
		}
	}
}

func TestOnMessageLimits(t *testing.T) {
	e, _ := newEngine(t, messageScript, dialplan.Config{}, discard())
	_, err := e.OnMessage(t.Context(), dialplan.Message{From: "1003", To: "668"})
	if !errors.Is(err, dialplan.ErrBudget) {
		t.Fatalf("endless on_message: %v, want ErrBudget", err)
	}
}

func TestNoOnMessage(t *testing.T) {
	e, _ := newEngine(t, `function on_call(call) call:hangup() end`, dialplan.Config{}, discard())
	d, err := e.OnMessage(t.Context(), dialplan.Message{From: "1001", To: "1002"})
	if err != nil || d.Handled {
		t.Fatalf("without on_message: %+v, %v; want not handled", d, err)
	}
}
