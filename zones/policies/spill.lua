-- spill.lua -- nearest datacenter with capacity spill-over.
--
-- Answers from the nearest datacenter (ctx.dcs is ordered by distance from the client's region)
-- that has members up, with all of its members up. A datacenter is expected to carry a region's
-- load with CAPACITY members: when the nearest one has fewer up, the answer is filled up to CAPACITY
-- from the next nearest datacenters, in order. The answer rotates per query (select "all"). With no
-- member up at all it fails open to every member, with a short TTL so resolvers ask again soon.
--
-- Used by spill.example.com (pool api: two members in ams and in iad, one in sin); tested by
-- spill.test.lua (meridianctl test-policy).

local CAPACITY = 2

return function(ctx)
	local up = meridian.up(ctx.members)
	local out = {}
	for _, dc in ipairs(ctx.dcs) do
		if #out >= CAPACITY then
			break
		end
		local here = meridian.in_dc(up, dc)
		-- the nearest datacenter with members gives all of them, the next ones only fill the gap
		local take = #out == 0 and #here or math.min(#here, CAPACITY - #out)
		for i = 1, take do
			out[#out + 1] = here[i]
		end
	end
	if #out == 0 then
		return { members = ctx.members, ttl = 10 }
	end
	return { members = out, select = "all" }
end
