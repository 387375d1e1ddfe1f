-- runtime.lua -- fails at run time in the cases named by ctx.region; otherwise answers.
return function(ctx)
  if ctx.region == "index" then
    local t = nil; return t.x
  end
  if ctx.region == "error0" then error("plain", 0) end
  if ctx.region == "table" then error({}) end
  return { members = { ctx.members[1] } }
end
