-- Answers the members up: nothing when all are down.
return function(ctx)
  return { members = meridian.up(ctx.members) }
end
