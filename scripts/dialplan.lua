-- scripts/dialplan.lua: the default softswitch dialplan.
--
-- softswitch runs on_call(call) below for every new call. Edit this file
-- while the switch runs: the next call uses the new version. If your edit
-- has an error, calls keep using the last good version and the log says
-- why, with file:line. Check a file before installing it with:
--
--     softswitch dialplan check scripts/dialplan.lua
--
-- The language is Lua 5.1 with the base, string, table and math libraries
-- and a safe part of os: os.time(), os.date(), os.difftime(), os.clock()
-- (no files, no os.execute or os.getenv, no require).
--
-- What a script can read about a call (all strings):
--   call.id            the call's id, as in the logs
--   call.caller        who calls (user part of From), e.g. "1001"
--   call.caller_name   their display name, may be ""
--   call.destination   the number dialled, e.g. "1002"
--   call.source        "ip:port" the call came from
--   call.transport     "udp", "tcp", "tls", "ws" or "wss"
--   call.trunk         the carrier the call came from ("" for extensions);
--                      call.destination is then the DID
--   call:header(name)  a SIP header's value, or nil
--
-- What a script can do (each waits until done; if the caller hangs up,
-- the script simply stops):
--   call:ring()                    send ringing to the caller
--   call:answer()                  answer the call
--   call:play("test-audio")        play a prompt (by name or file path)
--   call:play("a", "b", ...)       play several prompts in a row (or call:play{"a", "b"})
--   call:say_digits("1234")        speak digits: one, two, three, four
--   call:say_number(1234)          speak a number: one thousand two hundred thirty four
--   call:sleep(1.5)                wait (seconds, at most 3600)
--   call:record("msg-1001", {max = 60, silence = 5, terminator = "#"})
--                                  record the caller to <data>/recordings/msg-1001.wav;
--                                  returns the file's path, its seconds and why it
--                                  stopped: "terminator", "silence", "max"
--   call:echo(300)                 answer and send the caller's audio back until they
--                                  hang up or the seconds pass (default 300, max 3600)
--   call:conference("3000", {pin = "4711", max = 10, moderator = true, muted = false, gain = 1,
--                            record = false})
--                                  answer and join a conference room (a name of letters,
--                                  digits, _ - .) until the caller hangs up (gain: how loud
--                                  the caller is in the mix, up to 4); everyone hears
--                                  everyone else. record = true records the room's mix
--                                  (recordings dir, ROOM-DATE-TIME.wav, until the room
--                                  closes; the caller's CDR names it). In the room, *6
--                                  mutes and unmutes, *5 locks and unlocks it, *7 kicks
--                                  the member who joined last (both for moderators;
--                                  others hear that they are not). Returns nil and a
--                                  reason when the caller is not let in or removed:
--                                  "wrong-pin" (3 tries), "full", "locked", "kicked"
--   call:collect{max = 4, timeout = 5, terminator = "#", prompt = "enter-pin"}
--                                  collect DTMF digits, returns them ("" on timeout)
--   call:bridge("user/1001", {timeout = 30})
--   call:bridge({"user/1001", "user/1002"}, {timeout = 30})
--                                  connect the call; returns true if answered,
--                                  else nil and a reason: "busy", "no-answer",
--                                  "unavailable" (not registered), "declined",
--                                  "not-found" (no such user)
--   call:hangup("busy")            end the call: "normal" (default), "busy",
--                                  "no-answer", "unavailable", "declined",
--                                  "not-found", "forbidden" (403),
--                                  "congestion" (503, no way out right now),
--                                  or a SIP code such as 486
--   call:bridge("trunk/carrier/+4930123456")
--                                  call out through a trunk of configs/softswitch.yaml
--                                  (only extensions and carriers may; anonymous callers
--                                  get "forbidden")
--   call:set_caller("+4930123456", "Front desk")
--                                  the caller presented on the legs bridged next
--   trunk.up("carrier")            false while the trunk does not answer its keepalives
--   call:voicemail("1002")         take a message for 1002: greeting (the file
--                                  <data>/voicemail/1002/greeting.wav if there is one,
--                                  else a default), beep, then the
--                                  caller speaks until #, 5 s of silence or 120 s;
--                                  returns true, or nil and a reason ("not-found":
--                                  no such extension). Options: {greeting = "prompt",
--                                  max = 120, silence = 5}
--   call:voicemail_messages("1002") the mailbox: a list of {id, caller, caller_name,
--                                  time, seconds, heard, path}, oldest first
--   call:voicemail_heard("1002", id), call:voicemail_delete("1002", id)
--   call:set("name", "value")      attach a variable to the call (logs, the CDR's vars)
--   call:get("name")               what call:set stored, or nil
--   log.info("text", x), log.warn(...), log.error(...), print(...)
--                                  write to the softswitch log with the call id
--
-- Other entry points, each optional:
--   on_message(msg)   decides SIP MESSAGEs (see the README). It reads
--                     msg.from (the extension, or the number a carrier
--                     presents), msg.to (from a carrier: the DID),
--                     msg.trunk (the carrier it came from, "" for
--                     extensions), msg.body, msg.content_type, and does
--                     msg:deliver("1002") (an extension's devices, or
--                     stored for later), msg:deliver("trunk/carrier/+4930123456")
--                     (out through a trunk, only for extensions' messages;
--                     the sender gets the carrier's answer),
--                     msg:set_caller("+4930123456", "Front desk") (who the
--                     carrier sees, as call:set_caller), msg:reply(text),
--                     msg:reject(486). Without on_message, a message goes
--                     to the extension named by msg.to (a carrier's too:
--                     the DID must then be an extension number).
--   on_pickup(p)      decides directed call pickup (an extension's INVITE
--                     with Replaces naming a call that rings elsewhere):
--                     p.by (the extension picking up), p.caller and
--                     p.destination (the ringing call's); only a return
--                     of true lets the pickup happen, anything else is
--                     refused with 403. Without on_pickup, any extension
--                     may pick up any ringing call.
--
-- Timeouts are in seconds. When on_call returns, an answered call is hung
-- up, and a call left unanswered is rejected (480). A script error (a
-- typo, a bad argument) rejects the call with 500 and is logged with
-- file:line. A loop that runs for more than 2 seconds without waiting on
-- the call is stopped as such an error.

-- The test number: answers and plays the test audio (Opus to browsers,
-- PCMU to phones).
local TEST_NUMBER = "07010002000"

-- The echo test number: answers and sends the caller's audio back.
local ECHO_NUMBER = "07010002001"

-- Conference rooms: 3000 to 3099 (the room is the number) and
-- sip:conf-NAME@domain (the room is conf-NAME). A room listed here gets
-- its options (pin, max, muted); the others are open to anyone.
local CONF_FIRST, CONF_LAST = 3000, 3099
local CONF_ROOMS = {
  ["3099"] = {pin = "4711"},
}

-- How long an extension rings before giving up with "no-answer".
local RING_SECONDS = 30

-- The voicemail number: an extension dials it to hear its messages.
local VOICEMAIL_NUMBER = "*98"

-- Trunks tried, in order, for external numbers (0 + number).
local TRUNKS = {"carrier", "backup"}

-- Office hours, in the switch's local time zone, by day of the week as
-- os.date("*t").wday counts them (1 = Sunday, 2 = Monday, ... 7 = Saturday).
-- A day that is not listed is closed. Calls from carriers outside these
-- hours hear the "office-closed" prompt instead of ringing anyone.
local OFFICE_HOURS = {
  [2] = {"08:00", "18:00"},
  [3] = {"08:00", "18:00"},
  [4] = {"08:00", "18:00"},
  [5] = {"08:00", "18:00"},
  [6] = {"08:00", "16:00"},
}

-- office_open(t) tells whether time t (seconds, as os.time() returns;
-- default now) falls within OFFICE_HOURS. Use it for any time-of-day rule:
--   if not office_open() then ... end
function office_open(t)
  local d = os.date("*t", t)
  local hours = OFFICE_HOURS[d.wday]
  if not hours then
    return false
  end
  local now = string.format("%02d:%02d", d.hour, d.min)
  return now >= hours[1] and now < hours[2]
end

function on_call(call)
  local dest = call.destination

  if dest == TEST_NUMBER then
    call:answer()
    call:play("test-audio")
    return call:hangup()
  end

  if dest == ECHO_NUMBER then
    call:echo(300)
    return call:hangup()
  end

  if dest == VOICEMAIL_NUMBER then
    return voicemail_menu(call)
  end

  local n = tonumber(dest)
  if (n and #dest == 4 and n >= CONF_FIRST and n <= CONF_LAST) or dest:match("^conf%-[%w_.-]+$") then
    call:conference(dest, CONF_ROOMS[dest])
    return call:hangup()
  end

  -- Four digits: a local extension. Ring all its registered devices; if it
  -- is busy or does not answer, the caller can leave a message; otherwise
  -- pass the reason back to the caller (not registered -> 480,
  -- declined -> 603, no such user -> 404).
  if dest:match("^%d%d%d%d$") then
    return ring_extension(call, dest)
  end

  -- Calls from a carrier: route the DID. With one DID per extension this
  -- could be a table lookup; here a DID ending in an extension number rings it.
  if call.trunk ~= "" then
    if not office_open() then
      call:set("closed", os.date("%a %H:%M"))
      call:answer()
      call:play("office-closed")
      return call:hangup()
    end
    local ext = dest:match("(%d%d%d%d)$")
    if ext then
      return ring_extension(call, ext)
    end
    return call:hangup("not-found")
  end

  -- 0 + number: out through the first trunk that is up (configure them in
  -- configs/softswitch.yaml under trunks:).
  local number = dest:match("^0(%+?%d+)$")
  if number then
    for _, name in ipairs(TRUNKS) do
      local known, up = pcall(trunk.up, name)
      if known and up then
        local ok, why = call:bridge({"trunk/" .. name .. "/" .. number}, {timeout = 60})
        if not ok then
          return call:hangup(why)
        end
        return
      end
    end
    log.warn("no trunk up for", dest)
    return call:hangup("congestion")
  end

  -- Anything else: no route.
  log.info("no route for", dest, "from", call.caller)
  return call:hangup("not-found")
end

-- ring_extension rings ext; busy or no answer goes to its voicemail. A
-- mailbox that cannot take the message (no such extension) falls back to
-- the ringing's reason.
function ring_extension(call, ext)
  local ok, why = call:bridge({"user/" .. ext}, {timeout = RING_SECONDS})
  if ok then
    return
  end
  if why == "busy" or why == "no-answer" then
    local left, vm_why = call:voicemail(ext)
    if left then
      return call:hangup()
    end
    log.info("no voicemail for", ext, vm_why)
  end
  return call:hangup(why)
end

-- PICKUP_GROUPS: extensions of a group may pick up each other's ringing
-- calls; an extension in no group picks up nobody's. Edit to taste.
local PICKUP_GROUPS = {
  office = {"1000", "1001", "1002", "1003"},
}

-- pickup_group(ext) is the name of the group ext belongs to, or nil.
local function pickup_group(ext)
  for name, members in pairs(PICKUP_GROUPS) do
    for _, m in ipairs(members) do
      if m == ext then
        return name
      end
    end
  end
  return nil
end

function on_pickup(p)
  local group = pickup_group(p.by)
  return group ~= nil and group == pickup_group(p.destination)
end

-- voicemail_menu lets an extension hear its messages: after each one,
-- 1 plays it again, 7 deletes it, 9 (or nothing) goes to the next.
function voicemail_menu(call)
  local ext = call.caller
  if call.trunk ~= "" or not ext:match("^%d%d%d%d$") then
    return call:hangup("forbidden")
  end
  call:answer()
  local msgs = call:voicemail_messages(ext)
  local new = 0
  for _, m in ipairs(msgs) do
    if not m.heard then
      new = new + 1
    end
  end
  if #msgs == 0 then
    call:play("vm-no-messages")
    return call:hangup()
  end
  call:play("vm-you-have")
  call:say_number(new)
  call:play(new == 1 and "vm-new-message" or "vm-new-messages")
  local i, turns = 1, 0
  while i <= #msgs and turns < 100 do
    turns = turns + 1
    local m = msgs[i]
    call:play("vm-message")
    call:say_number(i)
    call:play(m.path)
    if not m.heard then
      call:voicemail_heard(ext, m.id)
      m.heard = true
    end
    local digit = call:collect{max = 1, timeout = 5, prompt = "vm-menu"}
    if digit == "7" then
      call:voicemail_delete(ext, m.id)
      call:play("vm-deleted")
      i = i + 1
    elseif digit ~= "1" then
      i = i + 1
    end
  end
  call:play("vm-no-more")
  return call:hangup()
end
