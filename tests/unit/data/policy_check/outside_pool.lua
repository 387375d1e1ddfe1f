-- Answers an address that is not in its pool when ams-1 is down.
return function(ctx)
  for _, m in ipairs(ctx.members) do
    if m.name == "ams-1" and m.state == "down" then
      return { addrs = { "192.0.2.99" } }
    end
  end
  return { members = ctx.members }
end
