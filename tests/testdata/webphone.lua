-- Dialplan for the web phone tests: each failure the page must word.
function on_call(call)
  local d = call.destination
  if d == "07010002000" then
    call:answer()
    call:play("test-audio")
    return call:hangup()
  end
  if d == "1999" then return call:hangup("not-found") end   -- 404
  if d == "1002" then return call:hangup("busy") end        -- 486
  if d == "1004" then return call:hangup("congestion") end  -- 503
  if d:match("^9%d%d%d%d$") then -- 9 + extension: rings for long (1003 is never registered: 480)
    local ok, why = call:bridge({"user/" .. d:sub(2)}, {timeout = 60}) -- long: a loaded machine is slow to answer
    if not ok then
      return call:hangup(why)
    end
    return
  end
  call:hangup("not-found")
end
