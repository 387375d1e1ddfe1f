-- every member; an endless loop while iad-1 is down
return function(ctx)
  for _, m in ipairs(ctx.members) do
    if m.name == "iad-1" and m.state ~= "up" then while true do end end
  end
  return { members = ctx.members }
end
