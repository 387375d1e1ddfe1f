-- answers.lua -- one answer per case, the case named by ctx.region: every shape the conversion
-- accepts and every one it refuses (tests/unit/test_lua_policy.c lists what each must give).
local m = function(ctx, name)
  for _, x in ipairs(ctx.members) do
    if x.name == name then return x end
  end
end

local cases = {
  -- accepted
  members = function(ctx) return { members = { m(ctx, "iad-1"), m(ctx, "ams-1") } } end,
  built = function() return { members = { { name = "sin-1" } } } end,
  addrs = function() return { addrs = { "198.51.100.10", "192.0.2.10" } } end,
  addrs6 = function() return { addrs = { "2001:DB8:0:0::10" } } end,
  targets = function() return { addrs = { "iad.edge.example.net", "AMS.EDGE.EXAMPLE.NET." } } end,
  dups = function(ctx)
    return { members = { m(ctx, "ams-1"), m(ctx, "iad-1"), m(ctx, "ams-1"), { name = "iad-1" } } }
  end,
  dup_addrs = function() return { addrs = { "192.0.2.10", "198.51.100.10", "192.0.2.10" } } end,
  fields = function(ctx)
    return { members = { m(ctx, "ams-2") }, ttl = 15, select = "weighted", answers = 2, recheck = 2.5 }
  end,
  ttl_float = function(ctx) return { members = { m(ctx, "ams-2") }, ttl = 60 / 2, answers = 0 } end,
  ttl_max = function(ctx) return { members = { m(ctx, "ams-2") }, ttl = 2147483647 } end,
  answers_big = function(ctx) return { members = { m(ctx, "ams-2") }, answers = 1000 } end,
  first = function(ctx) return { members = ctx.members, select = "first" } end,
  shuffle = function(ctx) return { members = ctx.members, select = "shuffle" } end,
  hash = function(ctx) return { members = ctx.members, select = "hash" } end,
  all = function(ctx) return { members = ctx.members, select = "all" } end,
  sixty_four = function(ctx)
    local out = {}
    for i = 1, 64 do out[i] = ctx.members[i] end
    return { members = out }
  end,
  -- refused
  ["nil"] = function() return nil end,
  number = function() return 42 end,
  nothing = function() return {} end,
  empty = function() return { members = {} } end,
  empty_addrs = function() return { addrs = {} } end,
  not_member = function() return { addrs = { "192.0.2.10", "192.0.2.99" } } end,
  wrong_type = function() return { members = { { name = "ams-6" } } } end,
  wrong_family = function() return { addrs = { "2001:db8::10" } } end,
  bad_addr = function() return { addrs = { "192.0.2.300" } } end,
  unknown = function() return { members = { { name = "nope" } } } end,
  no_name = function() return { members = { {} } } end,
  name_string = function() return { members = { "ams-1" } } end,
  addr_number = function() return { addrs = { 42 } } end,
  both = function(ctx) return { members = ctx.members, addrs = { "192.0.2.10" } } end,
  typo = function(ctx) return { member = ctx.members } end,
  -- several typos: the first in text order is named, whatever order Lua walks the table in
  typos = function(ctx) return { member = ctx.members, tll = 5, zelect = "all", alpha = 1, anwsers = 2 } end,
  bare_list = function(ctx) return { ctx.members[1] } end,
  one_member = function(ctx) return { members = ctx.members[1] } end,
  members_string = function() return { members = "ams-1" } end,
  ttl_negative = function(ctx) return { members = ctx.members, ttl = -1 } end,
  ttl_big = function(ctx) return { members = ctx.members, ttl = 2147483648 } end,
  ttl_fraction = function(ctx) return { members = ctx.members, ttl = 1.5 } end,
  ttl_string = function(ctx) return { members = ctx.members, ttl = "30" } end,
  select_bad = function(ctx) return { members = ctx.members, select = "random" } end,
  select_number = function(ctx) return { members = ctx.members, select = 1 } end,
  answers_negative = function(ctx) return { members = ctx.members, answers = -1 } end,
  answers_fraction = function(ctx) return { members = ctx.members, answers = 0.5 } end,
  recheck_negative = function(ctx) return { members = ctx.members, recheck = -1 } end,
  recheck_nan = function(ctx) return { members = ctx.members, recheck = 0 / 0 } end,
  recheck_inf = function(ctx) return { members = ctx.members, recheck = math.huge } end,
  recheck_string = function(ctx) return { members = ctx.members, recheck = "5" } end,
  too_many = function(ctx) return { members = ctx.members } end,
  cname_addr = function() return { addrs = { "192.0.2.10" } } end,
}

return function(ctx)
  return cases[ctx.region](ctx)
end
