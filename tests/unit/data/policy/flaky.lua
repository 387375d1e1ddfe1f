-- every member that is up; an error while iad-1 is down
return function(ctx)
  for _, m in ipairs(ctx.members) do
    if m.name == "iad-1" and m.state ~= "up" then error("iad-1 is gone") end
  end
  return { members = meridian.up(ctx.members) }
end
