-- Errors only when no iad member is up while others are: in the scenario "dc iad down".
return function(ctx)
  local up = meridian.up(ctx.members)
  if #up > 0 and #meridian.in_dc(up, "iad") == 0 then
    error("iad is gone")
  end
  return { members = ctx.members }
end
