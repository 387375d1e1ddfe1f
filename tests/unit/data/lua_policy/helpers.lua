-- helpers.lua -- each case (named by ctx.region) answers with one helper of the meridian table.
local up = function(ctx) return meridian.up(ctx.members) end
local cases = {
  up = function(ctx) return meridian.all(up(ctx)) end,
  up_standby = function(ctx) return meridian.all(meridian.up(ctx.members, { standby = true })) end,
  up_drain = function(ctx) return meridian.all(meridian.up(ctx.members, { drain = true })) end,
  in_dc = function(ctx) return meridian.all(meridian.in_dc(ctx.members, "iad")) end,
  in_dc_entry = function(ctx) return meridian.all(meridian.in_dc(ctx.members, ctx.dcs[1])) end,
  nearest = function(ctx) return meridian.all(meridian.nearest(up(ctx), ctx.dcs)) end,
  nearest_names = function(ctx) return meridian.all(meridian.nearest(up(ctx), { "sin", "ams" })) end,
  nearest_none = function(ctx) return meridian.all(meridian.nearest(up(ctx), { "nowhere" })) end,
  first_up = function(ctx) return meridian.first_up(ctx.members) end,
  first_up_none = function(ctx)
    return meridian.first_up({}) or { members = ctx.members, ttl = 5 }
  end,
  weighted = function(ctx) return meridian.weighted(up(ctx), 2) end,
  pickrandom = function(ctx) return meridian.pickrandom(ctx.members) end,
  pickwrandom = function(ctx) return meridian.pickwrandom(ctx.members) end,
  pickhashed = function(ctx) return meridian.pickhashed(ctx.members) end,
  pickclosest = function(ctx) return meridian.pickclosest(ctx.members, ctx.dcs) end,
  all = function(ctx) return meridian.all(ctx.members) end,
  bad_arg = function()
    local none = meridian.up(nil) -- not a tail call: a tail call leaves no line to blame
    return none
  end,
}

return function(ctx)
  return cases[ctx.region](ctx)
end
