-- follow_the_sun.lua -- the datacenter in working hours answers, whatever the client's region.
--
-- The day (UTC, from ctx.now: a policy's only clock) is split into three shifts: sin from 00:00,
-- ams from 08:00, iad from 16:00. The shift's datacenter answers with its members up; when it has
-- none, the nearest datacenter with members up does, then any member up; with no member up at all,
-- every member (fail open, short TTL). The answer asks to be computed again when the shift changes
-- (recheck = seconds until then), so the switch happens on time even when nothing else changes.
--
-- Used by sun.example.com (pool api); tested by follow_the_sun.test.lua (meridianctl test-policy).

local DAY, SHIFT = 86400, 8 * 3600
local shifts = { "sin", "ams", "iad" } -- from 00:00, 08:00 and 16:00 UTC

return function(ctx)
	local t = math.floor(ctx.now) % DAY
	local shift = t // SHIFT
	local recheck = (shift + 1) * SHIFT - t
	local up = meridian.up(ctx.members)
	local here = meridian.in_dc(up, shifts[shift + 1])
	if #here == 0 then
		here = meridian.nearest(up, ctx.dcs)
	end
	if #here == 0 then
		return { members = ctx.members, ttl = 10, recheck = recheck }
	end
	return { members = here, recheck = recheck }
end
