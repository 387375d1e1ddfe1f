-- ctx.lua -- raises the context it was given, flattened to one line, for the test to compare.
local function flat(ctx)
  local out = { ctx.region, ctx.record.name, ctx.record.type, ctx.record.ttl, ctx.record.pool,
                string.format("%.1f", ctx.now) }
  for _, m in ipairs(ctx.members) do
    out[#out + 1] = string.format("%s=%s/%s/%d/%s/%s/%.1f/%s", m.name, m.addr or m.target, m.dc,
                                  m.weight, m.state, tostring(m.forced), m.since, tostring(m.standby))
  end
  for _, d in ipairs(ctx.dcs) do out[#out + 1] = d.name .. ":" .. tostring(d.km) end
  return table.concat(out, " ")
end

return function(ctx)
  error(flat(ctx), 0)
end
