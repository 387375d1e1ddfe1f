-- Slow start: members an operator forced up serve first; otherwise those up for a minute or more;
-- members that came up less than a minute ago only when no member is warm; every member when none
-- is up.
return function(ctx)
  local up = meridian.up(ctx.members)
  local forced, warm = {}, {}
  for _, m in ipairs(up) do
    if m.forced then forced[#forced + 1] = m end
    if m.since >= 60 then warm[#warm + 1] = m end
  end
  if #forced > 0 then return { members = forced } end
  if #warm > 0 then return { members = warm } end
  if #up > 0 then
    local longest = 0
    for _, m in ipairs(up) do longest = math.max(longest, m.since) end
    return { members = up, recheck = 60 - longest }   -- run again when the first one is warm
  end
  return { members = ctx.members, ttl = 5 }
end
