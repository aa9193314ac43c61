-- Dialplan for the call API end-to-end test (TestRecordAndSay).
function on_call(call)
  if call.destination == "0801" then
    -- Record 3 s of the caller, tell them a number, play the recording back.
    call:answer()
    local path, secs, why = call:record("rec-" .. call.caller, {max = 3})
    call:set("recorded", string.format("%.1f", secs))
    call:set("stop", why)
    call:say_number(42)
    call:play(path)
    return call:hangup()
  end
  if call.destination == "0802" then
    -- Voicemail for an extension that does not exist: the fallback.
    local ok, why = call:voicemail("4444")
    if not ok then
      return call:hangup(why == "not-found" and 404 or 500)
    end
    return call:hangup()
  end
  call:hangup("not-found")
end
