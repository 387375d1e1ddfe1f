-- canary.lua -- a weighted canary: a new release takes a small share of the traffic.
--
-- The pool holds the stable members and canary members (those whose name starts with "canary").
-- Each answer is one member drawn by weight per query (select "weighted", answers = 1); the weights
-- come from the config, so the canary's share is its weight over the total of the members up
-- (canary.example.com: weight 1 against 10 + 9, 5%). The canary serves only beside a stable member:
-- when no stable member is up, it is not left alone with all the traffic, and the answer fails open
-- to the stable members with a short TTL. Raise the canary's weight in meridian.conf to ramp it up,
-- or mark it down (meridianctl set canary/canary-1 down) to take it out.
--
-- Used by canary.example.com (pool canary); tested by canary.test.lua (meridianctl test-policy).

local function is_canary(m)
	return m.name:sub(1, 6) == "canary"
end

return function(ctx)
	local stable, canary, all_stable = {}, {}, {}
	for _, m in ipairs(meridian.up(ctx.members)) do
		if is_canary(m) then
			canary[#canary + 1] = m
		else
			stable[#stable + 1] = m
		end
	end
	if #stable == 0 then
		for _, m in ipairs(ctx.members) do
			if not is_canary(m) and not m.standby then
				all_stable[#all_stable + 1] = m
			end
		end
		return { members = all_stable, select = "weighted", answers = 1, ttl = 10 }
	end
	for _, m in ipairs(canary) do
		stable[#stable + 1] = m
	end
	return meridian.weighted(stable, 1)
end
