-- counter.lua -- counts its calls in a variable of the file's state; answers with the count as ttl.
local calls = 0
return function(ctx)
  calls = calls + 1
  return { members = { ctx.members[1] }, ttl = calls }
end
