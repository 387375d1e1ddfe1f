-- failover.lua -- the built-in "failover" policy written in Lua (give ctx.dcs the region's order):
-- the first datacenter with a member serving (up or draining; standby members left out) wins,
-- whole; when none of them has one, every serving member; when nothing serves, every member that is
-- not a standby (fail open, as when_all_down = "serve_all").
return function(ctx)
  local serving = meridian.up(ctx.members, { drain = true })
  for _, dc in ipairs(ctx.dcs) do
    local here = meridian.in_dc(serving, dc)
    if #here > 0 then return meridian.all(here) end
  end
  if #serving > 0 then return meridian.all(serving) end
  local open = {}
  for _, m in ipairs(ctx.members) do
    if not m.standby then open[#open + 1] = m end
  end
  return meridian.all(open)
end
