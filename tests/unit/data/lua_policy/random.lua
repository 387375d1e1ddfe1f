-- random.lua -- math.random's draws, returned as ttl, recheck and the member picked.
return function(ctx)
  if ctx.region == "reseed" then math.randomseed(42) end
  if ctx.region == "empty" then return math.random(2, 1) end
  local ttl = math.random(0, 1000000)
  local recheck = math.random()
  local pick = math.random(#ctx.members)
  assert(recheck >= 0 and recheck < 1 and pick >= 1 and pick <= #ctx.members)
  assert(math.type(math.random(0)) == "integer")
  return { members = { ctx.members[pick] }, ttl = ttl, recheck = recheck }
end
