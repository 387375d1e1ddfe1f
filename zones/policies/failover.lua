-- failover.lua -- ordered failover per region: the built-in "failover" policy, written in Lua.
--
-- Each region lists datacenters in order of preference (below, the same orders as app.example.com
-- in meridian.conf); the first datacenter with a member up answers with all of its members up.
-- Regions without an order of their own (us_west, office) use the default region's. When nothing in
-- the order is up, every member up answers; when no member is up at all, every member answers
-- (fail open: an empty answer is never served). A member that drains still answers, as with the
-- built-in policy (the record's TTL drops to ttl_degraded while it does); standby members never do.
--
-- It gives the same answers as policy = "failover" with these orders (tests/unit/test_policy_check.c
-- compares the two in every region and failure scenario): start from it to add rules of your own.
-- Used by api.example.com; tested by failover.test.lua (meridianctl test-policy).

local order = {
	europe   = { "ams", "iad" },
	americas = { "iad", "ams" },
	asia     = { "sin", "ams" },
}
local default_region = "americas"

-- Whether member m can answer the record: an address of the record's family, or a CNAME target.
local function fits(m, rtype)
	if rtype == "CNAME" then
		return m.target ~= nil
	end
	return m.addr ~= nil and (m.addr:find(":", 1, true) ~= nil) == (rtype == "AAAA")
end

local function eligible(members, rtype)
	local out = {}
	for _, m in ipairs(meridian.up(members, { drain = true })) do
		if fits(m, rtype) then
			out[#out + 1] = m
		end
	end
	return out
end

return function(ctx)
	local rtype = ctx.record.type
	local up = eligible(ctx.members, rtype)
	for _, dc in ipairs(order[ctx.region] or order[default_region]) do
		local here = meridian.in_dc(up, dc)
		if #here > 0 then
			return { members = here }
		end
	end
	if #up > 0 then
		return { members = up }
	end
	-- all down: fail open to every member of the record's type
	local all = {}
	for _, m in ipairs(ctx.members) do
		if not m.standby and fits(m, rtype) then
			all[#all + 1] = m
		end
	end
	return { members = all }
end
