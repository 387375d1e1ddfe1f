-- failover.test.lua -- cases for failover.lua (api.example.com in ../meridian.conf).
-- Run: build/meridianctl test-policy zones/policies/failover.test.lua
return {
	config = "../meridian.conf",
	record = "api.example.com", type = "A",
	cases = {
		{ name = "all up, europe: ams", region = "europe",
		  expect = { addrs = { "192.0.2.10" }, ttl = 30, select = "all" } },
		{ name = "all up, americas: iad", region = "americas",
		  expect = { addrs = { "198.51.100.10" }, ttl = 30 } },
		{ name = "all up, asia: sin", region = "asia", expect = { addrs = { "203.0.113.10" } } },
		{ name = "us_west has no order: the default region's (americas), iad", region = "us_west",
		  expect = { addrs = { "198.51.100.10" } } },
		{ name = "no region given: the default region, iad", expect = { addrs = { "198.51.100.10" } } },
		{ name = "ams down, europe: the next in europe's order, iad, with the degraded TTL",
		  region = "europe", states = { ["web/ams-1"] = "down" },
		  expect = { addrs = { "198.51.100.10" }, ttl = 7 } },
		{ name = "sin down, asia: ams (not iad: asia's order is sin, ams)", region = "asia",
		  states = { ["web/sin-1"] = "down" }, expect = { addrs = { "192.0.2.10" }, ttl = 7 } },
		{ name = "ams and iad down, europe: what is up, sin", region = "europe",
		  states = { ["web/ams-1"] = "down", ["web/iad-1"] = "down" },
		  expect = { addrs = { "203.0.113.10" }, ttl = 7 } },
		{ name = "a draining member still answers, with the degraded TTL", region = "europe",
		  states = { ["web/ams-1"] = "drain" }, expect = { addrs = { "192.0.2.10" }, ttl = 7 } },
		{ name = "all down: every member (fail open)", region = "americas",
		  states = { ["web/ams-1"] = "down", ["web/iad-1"] = "down", ["web/sin-1"] = "down" },
		  expect = { addrs = { "192.0.2.10", "198.51.100.10", "203.0.113.10" }, ttl = 7 } },
	},
}
