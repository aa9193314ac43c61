-- Dialplan for the trunk tests.
--   0 + number        out through the first trunk that is up, in ROUTES
--                     order, presenting 4930 + the extension as caller;
--                     00 + number rings for 3 s only
--   0999              an anonymous destination routed to a carrier: the
--                     toll-fraud guard must refuse it
--   four digits       an extension
--   from a carrier    the DID picks the extension (DIDS)
-- on_message: 0 + number out through "carrier", presenting 4930 + the
-- extension (a carrier's message too: the softswitch must refuse that), a carrier's message by its DID, four
-- digits to that extension.
local DIDS = {["5550100"] = "1001", ["2000"] = "1001"}
local ROUTES = {"primary", "backup", "carrier"}

local function first_up()
  for _, name in ipairs(ROUTES) do
    local ok, up = pcall(trunk.up, name)
    if ok and up then
      return name
    end
  end
end

local function bridge_or_hangup(call, target, seconds)
  local ok, why = call:bridge(target, {timeout = seconds})
  if not ok then
    call:hangup(why)
  end
end

function on_call(call)
  local d = call.destination
  if call.trunk ~= "" then
    local ext = DIDS[d]
    if not ext then
      return call:hangup("not-found")
    end
    log.info("call from trunk", call.trunk, "for", d, "from", call.caller)
    return bridge_or_hangup(call, "user/" .. ext, 10)
  end
  if d == "07010002000" then
    call:answer()
    call:play("test-audio")
    return call:hangup()
  end
  if d == "0999" then
    return bridge_or_hangup(call, "trunk/carrier/999", 5)
  end
  local number = d:match("^0(%d+)$")
  if number then
    local via = first_up()
    if not via then
      return call:hangup("congestion")
    end
    call:set_caller("4930" .. call.caller, "Ext " .. call.caller)
    local ring = 15
    if number:sub(1, 1) == "0" then -- 00 + number: a short ring, for tests of silence
      ring = 3
    end
    return bridge_or_hangup(call, "trunk/" .. via .. "/" .. number, ring)
  end
  if d:match("^%d%d%d%d$") then
    return bridge_or_hangup(call, "user/" .. d, 10)
  end
  call:hangup("not-found")
end

function on_message(msg)
  local number = msg.to:match("^0(%d+)$")
  if number then
    if msg.trunk == "" then
      msg:set_caller("4930" .. msg.from, "Ext " .. msg.from)
    end
    return msg:deliver("trunk/carrier/" .. number)
  end
  if msg.trunk ~= "" then
    local ext = DIDS[msg.to]
    if not ext then
      return msg:reject(404)
    end
    log.info("message from trunk", msg.trunk, "for", msg.to, "from", msg.from)
    return msg:deliver("user/" .. ext)
  end
  if msg.to:match("^%d%d%d%d$") then
    return msg:deliver(msg.to)
  end
  msg:reject(404)
end
