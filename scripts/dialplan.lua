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
-- (no files, no os, no require).
--
-- What a script can read about a call (all strings):
--   call.id            the call's id, as in the logs
--   call.caller        who calls (user part of From), e.g. "1001"
--   call.caller_name   their display name, may be ""
--   call.destination   the number dialled, e.g. "1002"
--   call.source        "ip:port" the call came from
--   call.transport     "udp", "tcp", "tls", "ws" or "wss"
--   call:header(name)  a SIP header's value, or nil
--
-- What a script can do (each waits until done; if the caller hangs up,
-- the script simply stops):
--   call:ring()                    send ringing to the caller
--   call:answer()                  answer the call
--   call:play("test-audio")        play a prompt (by name or file path)
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
--                                  "not-found", or a SIP code such as 486
--   call:set("name", "value")      attach a variable to the call (logs, CDR)
--   log.info("text", x), log.warn(...), log.error(...), print(...)
--                                  write to the softswitch log with the call id
--
-- Timeouts are in seconds. When on_call returns, an answered call is hung
-- up, and a call left unanswered is rejected (480). A script error (a
-- typo, a bad argument) rejects the call with 500 and is logged with
-- file:line. A loop that runs for more than 2 seconds without waiting on
-- the call is stopped as such an error.

-- The test number: answers and plays the test audio (Opus to browsers,
-- PCMU to phones).
local TEST_NUMBER = "07010002000"

-- How long an extension rings before giving up with "no-answer".
local RING_SECONDS = 30

function on_call(call)
  local dest = call.destination

  if dest == TEST_NUMBER then
    call:answer()
    call:play("test-audio")
    return call:hangup()
  end

  -- Four digits: a local extension. Ring all its registered devices; if it
  -- does not answer, pass the reason back to the caller (busy -> 486,
  -- no-answer -> 480, not registered -> 480, declined -> 603,
  -- no such user -> 404).
  if dest:match("^%d%d%d%d$") then
    local ok, why = call:bridge({"user/" .. dest}, {timeout = RING_SECONDS})
    if not ok then
      return call:hangup(why)
    end
    return
  end

  -- Anything else: no route.
  log.info("no route for", dest, "from", call.caller)
  return call:hangup("not-found")
end
