-- limits.lua -- each case (named by ctx.region) runs into a limit of the sandbox; "ok" does not.
-- Big strings are built from a 1 KiB block: string.rep copies its argument once per repetition,
-- which sanitizer builds make slow.
local kib = ("x"):rep(1024)
local cases = {
  loop = function() while true do end end,
  loop_pcall = function()
    while true do pcall(function() while true do end end) end
  end,
  loop_xpcall = function()
    return xpcall(function() while true do end end, function() while true do end end)
  end,
  loop_handler = function()
    return xpcall(function() error("x") end, function() while true do end end)
  end,
  compare = function()
    local a, b = kib:rep(4000), kib:rep(4000) -- equal, not the same string: memcmp
    while a == b do end
  end,
  rep_loop = function()
    while true do local s = kib:rep(5000) end
  end,
  memory = function()
    local t = {}
    while true do t[#t + 1] = kib:rep(1024) .. #t end
  end,
  memory_pcall = function(ctx)
    pcall(function()
      local t = {}
      while true do t[#t + 1] = kib:rep(1024) .. #t end
    end)
    return { members = { ctx.members[1] } }
  end,
  deep = function()
    local function f(n) return 1 + f(n + 1) end
    return f(1)
  end,
  garbage = function(ctx)
    local keep, block = 0, kib:rep(8)
    for i = 1, 1000 do keep = keep + #(block .. i) end
    return { members = { ctx.members[1] }, ttl = keep // 1000 }
  end,
  rep_huge = function() return ("x"):rep(2 ^ 40) end,
  rep_empty = function(ctx)
    assert(("").rep("", 2 ^ 50) == "" and ("ab"):rep(3, ",") == "ab,ab,ab")
    return { members = { ctx.members[1] } }
  end,
  find_subject = function() return ("x"):rep(4097):find("y") end,
  match_subject = function() return ("x"):rep(4097):match("y") end,
  gmatch_subject = function() return ("x"):rep(4097):gmatch("y") end,
  gsub_subject = function() return string.gsub(("x"):rep(4097), "y", "z") end,
  pattern = function() return ("x"):find(("a"):rep(129)) end,
  complex = function() return ("a"):rep(4000):match("(.*)-(.*)-(.*)") end,
  patterns_ok = function(ctx)
    local a, b, c = ("ams-1-x"):match("(.*)-(.*)-(.*)")
    assert(a == "ams" and b == "1" and c == "x")
    assert(("x"):rep(4096):find("x+$") == 1)
    assert(("x"):rep(4096):find(("x"):rep(128), 1, true) == 1)
    local n = 0
    for _ in ("a,b,c"):gmatch("[^,]+") do n = n + 1 end
    assert(n == 3 and (" ams "):gsub("^%s*(.-)%s*$", "%1") == "ams")
    return { members = { ctx.members[1] } }
  end,
  move = function() return table.move({}, 1, 2 ^ 50, 1, {}) end,
  insert = function()
    table.insert(setmetatable({}, { __len = function() return 2 ^ 50 end }), 1, "x")
  end,
  remove = function()
    table.remove(setmetatable({}, { __len = function() return 2 ^ 50 end }), 1)
  end,
  concat = function() return table.concat({}, "", 1, 2 ^ 40) end,
  ok = function(ctx) return { members = { ctx.members[1] } } end,
}

return function(ctx)
  return cases[ctx.region](ctx)
end
