-- Dialplan for the end-to-end tests: the shipped routes with a short ring
-- time, plus numbers that fail on purpose.
function on_call(call)
  local d = call.destination
  if call.referred_by ~= "" then
    return transfer_test(call)
  end
  if d == "07010002000" then
    call:answer()
    call:play("test-audio")
    return call:hangup()
  end
  if d == "08" then
    return collect_test(call)
  end
  if d == "666" then
    error("failing on purpose")
  end
  if d == "777" then
    while true do end -- stopped by the CPU budget
  end
  if d == "778" then
    string.find(("a"):rep(800), ".-.-.-b") -- backtracks for minutes: stopped by the CPU budget
  end
  if d == "779" then
    local s = ("x"):rep(65536)
    s:gsub(".", s) -- 4 GiB: refused
  end
  if d == "780" then
    local t = {}
    while true do t[#t + 1] = {1, 2, 3, 4} end -- stopped by the memory limit
  end
  if d:match("^9%d%d%d%d$") then -- 9 + extension: ring longer
    local ok, why = call:bridge({"user/" .. d:sub(2)}, {timeout = 15})
    if not ok then
      return call:hangup(why)
    end
    return
  end
  if d:match("^%d%d%d%d$") then
    local ok, why = call:bridge({"user/" .. d}, {timeout = 3})
    if not ok then
      return call:hangup(why)
    end
    return
  end
  call:hangup("not-found")
end

-- 08: answer, collect three digits, hang up "normal" when they are 123
-- (the CDR tells the test what the dialplan heard).
function collect_test(call)
  call:answer()
  local digits = call:collect{max = 3, timeout = 5}
  if digits == "123" then
    return call:hangup("normal")
  end
  log.warn("collected", digits)
  call:hangup("declined")
end

-- A transfer (REFER): the dialplan decides where the transferred party
-- may go; 1999 is refused on purpose.
function transfer_test(call)
  local d = call.destination
  if d == "1999" or not d:match("^%d%d%d%d$") then
    return call:hangup("forbidden")
  end
  local ok, why = call:bridge({"user/" .. d}, {timeout = 15})
  if not ok then
    return call:hangup(why)
  end
end

-- Directed pickup: 1001 may not pick up calls (TestCallPickup), the
-- other extensions may.
function on_pickup(p)
  return p.by ~= "1001"
end
