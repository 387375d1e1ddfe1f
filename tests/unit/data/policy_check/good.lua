-- The nearest datacenter with members up, every member when none is.
return function(ctx)
  local here = meridian.nearest(meridian.up(ctx.members), ctx.dcs)
  if #here == 0 then
    return { members = ctx.members, ttl = 5 }
  end
  return { members = here, select = "first", answers = 1 }
end
